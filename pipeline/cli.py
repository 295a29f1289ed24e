"""The ``fleetwatch`` command line: each command parses flags, builds settings, calls a run_*()."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.commands import build_servers, one_line_errors, server_options, settings_options
from pipeline.config import (
    StreamSettings,
    load,
)
from pipeline.errors import FleetwatchError
from pipeline.redact import RedactSecrets

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"


@click.group()
@click.version_option(__version__, prog_name="fleetwatch")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG instead of INFO.")
def cli(verbose: bool) -> None:
    """Fleetwatch: streaming anomaly detection and safe remediation for Linux fleets."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # kafka-python warns on every transient metadata refresh; its errors still show.
    logging.getLogger("kafka").setLevel(logging.DEBUG if verbose else logging.ERROR)
    # Client libraries log their whole config (SASL password included) at DEBUG: mask secrets.
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())


@cli.group()
def schemas() -> None:
    """JSON Schemas of the wire messages."""


@schemas.command("export")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=SCHEMAS_DIR,
    show_default=True,
    help="Where the schema files live.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the files differ.")
def schemas_export(directory: Path, check: bool) -> None:
    """Write schemas/*.json from the pydantic models (or --check they are current)."""
    from pipeline.schemas import export_schemas, stale_schemas

    if check:
        stale = stale_schemas(directory)
        if stale:
            click.echo(
                f"fleetwatch: schemas out of date in {directory}: {', '.join(stale)}; "
                "run `fleetwatch schemas export`",
                err=True,
            )
            sys.exit(1)
        click.echo(f"schemas in {directory} match the models")
        return
    for name in export_schemas(directory):
        click.echo(f"wrote {directory / name}")


@cli.command()
@click.argument("action", type=click.Choice(["up", "down", "status", "fetch"]))
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Where the servers keep data (env FLEETWATCH_LOCAL_DIR).",
)
@one_line_errors
def local(action: str, data_dir: Path | None) -> None:
    """Run real Kafka, InfluxDB and Alertmanager on 127.0.0.1 without Docker (deploy/local)."""
    from pipeline.local import run_stack

    addresses = run_stack(action, data_dir)
    for key, value in addresses.items():
        click.echo(f"export {key}={value}")


# Every worker setting but the sink's buffer bound, which is an operator's last resort, not a knob.
WORKER_FLAGS = (
    *("app_id", "data_dir", "store", "web_port", "detector", "window_s", "snapshot_interval_s"),
    *("write_detail", "detail_every_s", "session_timeout_s"),
    *("fetch_partition_bytes", "chunk_max", "chunk_wait_s"),
)


@cli.command()
@server_options
@settings_options(StreamSettings, *WORKER_FLAGS)
@one_line_errors
def worker(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    topic_prefix: str | None,
    **flags: Any,
) -> None:
    """Run a stream worker: validate, detect, write anomalies to their topic and InfluxDB."""
    from pipeline.stream.run import run_worker

    kafka, influx, topic_settings = build_servers(
        config_file, kafka_bootstrap, influx_url, topic_prefix
    )
    stream = load(StreamSettings, config_file, **flags)
    run_worker(kafka, topic_settings, stream, influx)


@cli.command()
@click.option(
    "--minutes",
    type=click.FloatRange(1.0, 120.0),
    default=3.0,
    show_default=True,
    help="Wall-clock length of the whole run.",
)
@click.option(
    "--nodes",
    type=click.IntRange(10, 2000),
    default=50,
    show_default=True,
    help="Virtual nodes in the simulated fleet.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario seed.")
@click.option("--keep", is_flag=True, help="Leave the stack running to explore afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the scorecard as JSON on stdout.")
@one_line_errors
def demo(minutes: float, nodes: int, seed: int, keep: bool, as_json: bool) -> None:
    """Run the whole pipeline live on a simulated fleet with injected faults; print a scorecard."""
    import json

    from rich.console import Console

    from pipeline.demo.run import DemoOptions, render_scorecard, run_demo

    console = Console(stderr=as_json)
    card = run_demo(DemoOptions(minutes=minutes, nodes=nodes, keep=keep, seed=seed), console)
    console.print(render_scorecard(card))
    if as_json:
        click.echo(json.dumps(card.as_dict(), indent=2, default=str))
    if card.faults_detected == 0:
        raise FleetwatchError("the pipeline detected none of the injected faults")


@cli.group()
def bench() -> None:
    """Benchmarks that print their figures (--json for scripts)."""


def _register_stage_commands() -> None:
    """Each stage owns its commands in pipeline/commands/<stage>.py and adds them here."""
    from pipeline.commands import stage_modules

    for module in stage_modules():
        module.register(cli, bench)


_register_stage_commands()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="fleetwatch")
