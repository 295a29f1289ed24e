"""Commands of the incident stage: ``incidents-worker``, ``runbooks check``, ``alerts``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pipeline.commands import build_servers, one_line_errors, server_options

SEVERITIES = ["info", "warning", "critical"]


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the incident stage's commands."""
    cli.add_command(incidents_worker)
    cli.add_command(runbooks)
    cli.add_command(alerts)
    bench.add_command(bench_incidents)


@click.command("incidents")
@click.option("--events", type=click.IntRange(1_000), default=200_000, show_default=True)
@click.option("--nodes", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def bench_incidents(events: int, nodes: int, as_json: bool) -> None:
    """Anomaly events per second one incident stage handles (decode + grouping + ticks)."""
    import json

    from pipeline.bench.incidents import run_incidents_bench

    figures = run_incidents_bench(events, nodes)
    if as_json:
        click.echo(json.dumps(figures.as_dict()))
        return
    for name, value in figures.as_dict().items():
        click.echo(
            f"{name:<20} {value:,.1f}" if isinstance(value, float) else f"{name:<20} {value:,}"
        )


@click.command("incidents-worker")
@server_options
@click.option("--runbook", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--group-id", default="fleetwatch-incidents", show_default=True)
@one_line_errors
def incidents_worker(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    topic_prefix: str | None,
    runbook: Path | None,
    group_id: str,
) -> None:
    """Group anomalies into incidents; issue signed remediation requests from a runbook."""
    from pipeline.config import ControlSettings, IncidentSettings, load
    from pipeline.incidents.worker import run_incident_stage

    kafka, influx, topic_settings = build_servers(
        config_file, kafka_bootstrap, influx_url, topic_prefix
    )
    settings = load(IncidentSettings, config_file, runbook=runbook)
    control = load(ControlSettings, config_file)
    counters = run_incident_stage(
        kafka, topic_settings, influx, settings, control, group_id=group_id
    )
    click.echo(
        f"{counters.anomalies} anomaly events → {counters.incidents_opened} incidents; "
        f"{counters.requests_issued} requests issued, {counters.requests_blocked} blocked",
        err=True,
    )


@click.group()
def runbooks() -> None:
    """Remediation runbooks."""


@runbooks.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def runbooks_check(file: Path) -> None:
    """Validate FILE; print every problem as FILE:LINE: field: message and exit 1."""
    from pipeline.errors import RunbookError
    from pipeline.incidents.runbooks import load_runbook

    try:
        book = load_runbook(file)
    except RunbookError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"{file}: {len(book.rules)} rules OK")


@click.command()
@server_options
@click.option("--follow", "-f", is_flag=True, help="Keep printing new alerts.")
@click.option("--node", help="Only this node: its host incidents and anomalies.")
@click.option("--role", help="Only incidents of this role (host and fleet).")
@click.option("--team", help="Only incidents of this team label.")
@click.option(
    "--severity",
    type=click.Choice(SEVERITIES),
    default="info",
    show_default=True,
    help="Minimum severity.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON message per line.")
@click.option("--stats", is_flag=True, help="Print messages and bytes read to stderr.")
@one_line_errors
def alerts(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    topic_prefix: str | None,
    **options: Any,
) -> None:
    """Print incidents and anomalies (all so far, or live with --follow).

    With --node, --role or --team only the partitions of those keys are read (fleet.alerts,
    and fleet.anomalies for a node); without them, every partition of the fleet.
    """
    from pipeline.incidents.alerts import follow_alerts
    from pipeline.incidents.subscriptions import ReadStats, Subscription

    kafka, _influx, topic_settings = build_servers(
        config_file, kafka_bootstrap, influx_url, topic_prefix
    )
    wanted = (options["node"], options["role"], options["team"])
    read = ReadStats()
    printed = follow_alerts(
        kafka,
        topic_settings,
        click.echo,
        min_severity=options["severity"],
        as_json=options["as_json"],
        follow=options["follow"],
        subscription=Subscription(*wanted) if any(wanted) else None,
        stats=read,
    )
    if options["stats"]:
        click.echo(
            f"printed {printed}; read {read.messages} messages, {read.bytes_read} bytes "
            f"from {read.partitions} partitions",
            err=True,
        )
