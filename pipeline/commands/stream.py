"""Commands of the stream stage: ``fleetwatch bench pipeline``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline.commands import build_servers, one_line_errors, server_options


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the stream stage's benchmark to ``fleetwatch bench``."""
    bench.add_command(bench_pipeline)


@click.command("pipeline")
@server_options
@click.option("--nodes", type=click.IntRange(1, 1_000_000), default=200, show_default=True)
@click.option("--metrics", type=click.IntRange(1, 2048), default=50, show_default=True)
@click.option(
    "--rounds",
    type=click.IntRange(50, 100_000),
    default=300,
    show_default=True,
    help="Backlog batches per node (also the detectors' warm-up).",
)
@click.option("--window-s", type=float, default=10.0, show_default=True, help="Anomaly window.")
@click.option("--faults", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--partitions", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Also drain the backlog with this many workers in one group (points_per_s, scaling).",
)
@click.option(
    "--load-s",
    type=click.FloatRange(0),
    default=60.0,
    show_default=True,
    help="Length of each paced load phase (0: none); at least three windows.",
)
@click.option(
    "--load-share",
    "load_shares",
    type=click.FloatRange(0, 2, min_open=True),
    multiple=True,
    default=(0.5, 0.9),
    show_default=True,
    help="Share of the worker's measured capacity each load phase offers (repeat the option).",
)
@click.option(
    "--load-producers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Producer processes of the load phases (each sends its share of the nodes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
def bench_pipeline(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    topic_prefix: str | None,
    nodes: int,
    metrics: int,
    rounds: int,
    window_s: float,
    faults: int,
    partitions: int,
    workers: int,
    load_s: float,
    load_shares: tuple[float, ...],
    load_producers: int,
    as_json: bool,
) -> None:
    """End-to-end points/s of one worker (or N together), ratio to a raw consume, latency.

    Then latency under load: each ``--load-share`` of the worker's measured capacity for
    ``--load-s`` seconds (JSON keys ``load_50``, ``load_90``, ...).
    """
    from pipeline.commands.stream_bench import json_figures, run_bench
    from pipeline.commands.stream_load import LoadOptions, LoadPhases

    kafka, influx, _ = build_servers(config_file, kafka_bootstrap, influx_url, topic_prefix)
    loads = None
    if load_s > 0 and load_shares:
        try:
            options = LoadOptions(load_shares, load_s, load_producers, faults, window_s)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--load-s") from None
        loads = LoadPhases(kafka, influx, options)
    result = run_bench(
        kafka, influx, nodes, metrics, rounds, window_s, faults, partitions, workers, loads
    )
    figures = json_figures(result)
    for name, reading in (loads.readings if loads else {}).items():
        figures[name] = json_figures(reading)
    if as_json:
        click.echo(json.dumps(figures))
        return
    _print_text(figures)


def _print_text(figures: dict[str, Any]) -> None:
    """One line per figure; a load phase's figures prefixed with its name."""
    for key, value in figures.items():
        if isinstance(value, dict) and key.startswith("load_"):
            _print_text({f"{key}.{name}": shown for name, shown in value.items()})
        elif not isinstance(value, list | dict):
            shown = f"{value:,.1f}" if isinstance(value, float) else value
            click.echo(f"{key:<26} {shown}")
