"""``fleetwatch anomalies``, ``incidents`` and ``report``: what happened, without writing Flux."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from pipeline.commands import config_option, influx_url_option, one_line_errors
from pipeline.config import InfluxSettings, load
from pipeline.errors import QueryError

if TYPE_CHECKING:  # the store modules import influxdb-client: only when a command runs
    from pipeline.store.query import AnomalyFilter
    from pipeline.store.timerange import TimeRange

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = ("open", "updated", "resolved")


def influx_options(command: F) -> F:
    """Where InfluxDB is and the time range: every query command takes these."""
    options = [
        config_option("[influx]"),
        influx_url_option,
        click.option(
            "--bucket",
            help=f"Bucket, 'database/retention' on 1.8 (env {InfluxSettings.env_name('bucket')}).",
        ),
        click.option(
            "--since",
            default="1h",
            show_default=True,
            help="Start: a duration ago (90s, 15m, 1h, 2d, 1w) or an ISO time with zone.",
        ),
        click.option("--until", help="End (same forms as --since); default now."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def filter_options(command: F) -> F:
    """Tag filters; each may be repeated, values of one filter are or-ed, filters are and-ed."""
    options = [
        click.option("--node", "nodes", multiple=True, help="Node id (repeatable)."),
        click.option("--metric", "metrics", multiple=True, help="Metric, e.g. cpu.usage_user."),
        click.option(
            "--severity",
            "severities",
            multiple=True,
            help="info, warning or critical (repeatable).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON array."),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(
    config_file: Path | None, influx_url: str | None, bucket: str | None
) -> InfluxSettings:
    return load(InfluxSettings, config_file, url=influx_url, bucket=bucket)


def _output(as_json: bool, as_csv: bool) -> Literal["table", "json", "csv"]:
    if as_json and as_csv:
        raise QueryError("choose one of --json and --csv")
    return "json" if as_json else "csv" if as_csv else "table"


def _time_range(since: str, until: str | None) -> TimeRange:
    from pipeline.store.timerange import TimeRange

    try:
        return TimeRange.parse(since, until, datetime.now(UTC))
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def _anomaly_filter(
    time_range: TimeRange,
    nodes: tuple[str, ...],
    metrics: tuple[str, ...],
    severities: tuple[str, ...],
) -> AnomalyFilter:
    from pipeline.store.query import AnomalyFilter

    try:
        return AnomalyFilter(time_range, nodes, metrics, severities)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the query and report commands."""
    cli.add_command(anomalies)
    cli.add_command(incidents)
    cli.add_command(report)


@click.command()
@influx_options
@filter_options
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@one_line_errors
def anomalies(
    config_file: Path | None,
    influx_url: str | None,
    bucket: str | None,
    since: str,
    until: str | None,
    nodes: tuple[str, ...],
    metrics: tuple[str, ...],
    severities: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
    limit: int,
) -> None:
    """Flagged windows from InfluxDB, newest first; filters compose."""
    from pipeline.report.listing import anomaly_cells, anomaly_rows, print_records
    from pipeline.store.query import query_anomalies

    output = _output(as_json, as_csv)
    selection = _anomaly_filter(_time_range(since, until), nodes, metrics, severities)
    records = query_anomalies(_settings(config_file, influx_url, bucket), selection, limit)
    print_records("anomalies", anomaly_rows(records), output, anomaly_cells, selection.describe())
    if len(records) == limit:
        click.echo(f"(stopped at --limit {limit}; narrow the filters or raise it)", err=True)


@click.group(invoke_without_command=True)
@influx_options
@filter_options
@click.option("--status", "statuses", multiple=True, help="open, updated or resolved (repeatable).")
@click.pass_context
@one_line_errors
def incidents(
    context: click.Context,
    config_file: Path | None,
    influx_url: str | None,
    bucket: str | None,
    since: str,
    until: str | None,
    nodes: tuple[str, ...],
    metrics: tuple[str, ...],
    severities: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
    statuses: tuple[str, ...],
) -> None:
    """Incidents that changed in the range (their newest state), newest first.

    ``incidents label ID KIND`` and ``incidents false-positive ID`` give feedback on one.
    """
    if context.invoked_subcommand is not None:
        return
    from pipeline.report.listing import incident_cells, incident_rows, print_records
    from pipeline.store.incidents import filter_incidents
    from pipeline.store.query import query_incidents

    output = _output(as_json, as_csv)
    selection = _anomaly_filter(_time_range(since, until), nodes, metrics, severities)
    for status in statuses:
        if status not in STATUSES:
            raise QueryError(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    records = filter_incidents(
        query_incidents(_settings(config_file, influx_url, bucket), selection.time_range),
        nodes,
        metrics,
        severities,
        statuses,
    )
    reason = selection.describe(status=statuses)
    print_records("incidents", incident_rows(records), output, incident_cells, reason)


@click.command()
@influx_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="Where to write the HTML page.",
)
@click.option(
    "--charts",
    type=click.IntRange(0, 50),
    default=8,
    show_default=True,
    help="Charts of the most anomalous series (besides incident charts).",
)
@one_line_errors
def report(
    config_file: Path | None,
    influx_url: str | None,
    bucket: str | None,
    since: str,
    until: str | None,
    output: Path,
    charts: int,
) -> None:
    """Write a self-contained HTML report: fleet timeline, top incidents, series with bands."""
    from pipeline.report.build import ReportLimits, build_report, write_report

    time_range = _time_range(since, until)
    influx = _settings(config_file, influx_url, bucket)
    data = build_report(influx, time_range, datetime.now(UTC), ReportLimits(series_charts=charts))
    size = write_report(data, output)
    click.echo(
        f"wrote {output} ({size // 1024} KiB): {len(data.anomalies)} anomaly events, "
        f"{len(data.incidents)} incidents, {len(data.series_panels)} series charts"
    )
