"""``fleetwatch bench soak``: memory and consumer lag of a worker over a long steady run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.commands import (
    config_option,
    influx_url_option,
    kafka_bootstrap_option,
    one_line_errors,
)

if TYPE_CHECKING:
    from pipeline.bench.soak import SoakReport
    from pipeline.bench.trend import SoakSample

MIB = 1024 * 1024


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``soak`` to ``bench``."""
    bench.add_command(soak)


@click.command("soak")
@config_option("[kafka], [influx]")
@kafka_bootstrap_option
@influx_url_option
@click.option("--minutes", type=click.FloatRange(1.0, 24 * 60), default=30.0, show_default=True)
@click.option("--nodes", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option(
    "--rate-fraction",
    type=click.FloatRange(0.05, 1.0),
    default=0.5,
    show_default=True,
    help="Share of the calibrated maximum rate to publish at.",
)
@click.option(
    "--calibrate-rounds",
    type=click.IntRange(10),
    default=100,
    show_default=True,
    help="Fleet rounds in the backlog the maximum rate is measured on.",
)
@click.option("--sample-s", type=click.FloatRange(1.0), default=10.0, show_default=True)
@click.option(
    "--max-rss-slope-mib-per-min",
    type=click.FloatRange(0.001),
    default=1.0,
    show_default=True,
    help="Memory counts as flat below this RSS growth over the second half.",
)
@click.option(
    "--lag-bound-s",
    type=click.FloatRange(1.0),
    default=30.0,
    show_default=True,
    help="Lag counts as bounded below this many seconds of input (second half).",
)
@click.option("--json", "as_json", is_flag=True, help="Print series and verdict as JSON.")
@one_line_errors
def soak(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Run a simulated fleet at half the worker's measured maximum; judge RSS and lag."""
    from pipeline.bench.soak import SoakOptions, run_soak
    from pipeline.config import InfluxSettings, KafkaSettings, load
    from pipeline.errors import FleetwatchError

    kafka = load(KafkaSettings, config_file, bootstrap=kafka_bootstrap)
    influx = load(InfluxSettings, config_file, url=influx_url)

    def show(sample: SoakSample) -> None:
        click.echo(_sample_line(sample), err=as_json)

    report = run_soak(kafka, influx, SoakOptions(**options), on_sample=show)
    verdict = report.verdict
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else _summary(report))
    if not verdict.ok:
        raise FleetwatchError(
            f"soak failed: memory flat={verdict.memory_flat}, lag bounded={verdict.lag_bounded}"
        )


def _sample_line(sample: SoakSample) -> str:
    return (
        f"{sample.elapsed_s:>7.0f} s  rss {sample.rss_bytes / MIB:7.1f} MiB  "
        f"lag {sample.lag_messages:>6}  backlog {sample.backlog_batches:>6}  "
        f"processed {sample.processed_batches:>9}  sink buffer "
        f"{sample.sink_buffer_points:>6}"
    )


def _summary(report: SoakReport) -> str:
    verdict = report.verdict
    return (
        f"max {report.max_rate_batches_per_s} batches/s, soaked at "
        f"{report.rate_batches_per_s}; published {report.published}, processed "
        f"{report.processed}, dead letters {report.dead_letters}; sink written "
        f"{report.sink_written_points}, dropped {report.sink_dropped_points}\n"
        f"rss slope {verdict.rss_slope_mib_per_min} MiB/min (bound "
        f"{verdict.max_rss_slope_mib_per_min}); lag max {verdict.lag_max_messages} "
        f"(bound {verdict.lag_bound_messages})"
    )
