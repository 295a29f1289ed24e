"""Anomalies and incidents printed for people (a rich table) or scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.store.incidents import IncidentRecord
from pipeline.store.records import AnomalyRecord

OutputFormat = Literal["table", "json", "csv"]
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
ANOMALY_COLUMNS = (
    "start",
    "node",
    "metric",
    "severity",
    "score",
    "observed",
    "expected",
    "detector",
    "why",
)
INCIDENT_COLUMNS = (
    "updated", "incident", "kind", "status", "severity", "scope", "hosts", "events", "metrics",
    "title",
)  # fmt: skip


def print_records(
    kind: str,
    rows: Sequence[dict[str, Any]],
    output: OutputFormat,
    table_row: Callable[[dict[str, Any]], tuple[str, ...]],
    empty_reason: str,
) -> None:
    """Print ``rows`` in ``output`` form; an empty result says so (on stderr for scripts).

    ``empty_reason`` completes ``no <kind> ...``, e.g. ``matching node=a in 10:00 → 11:00 UTC``.
    """
    if output == "json":
        click.echo(json.dumps(list(rows), indent=2))
    elif output == "csv":
        click.echo(_csv(rows), nl=False)
    if not rows:
        click.echo(f"no {kind} {empty_reason}", err=output != "table")
        return
    if output == "table":
        columns = ANOMALY_COLUMNS if kind == "anomalies" else INCIDENT_COLUMNS
        _print_table(kind, columns, [table_row(row) for row in rows])


def anomaly_cells(row: dict[str, Any]) -> tuple[str, ...]:
    """One anomaly as table cells (from :meth:`AnomalyRecord.as_row`)."""
    low, high = row["expected_low"], row["expected_high"]
    expected = (
        f"{low:.4g}–{high:.4g}" if low is not None and high is not None else _num(row["expected"])
    )
    return (
        row["window_start_at"][:19].replace("T", " "),
        row["node_id"],
        row["metric"] or "(host)",
        row["severity"],
        f"{row['score']:.3f}",
        _num(row["observed"]),
        expected,
        row["detector"],
        row.get("why") or row.get("reason") or "score",
    )


def incident_cells(row: dict[str, Any]) -> tuple[str, ...]:
    """One incident as table cells (from :meth:`IncidentRecord.as_row`)."""
    share = f" ({row['share']:.0%})" if row["share"] is not None else ""
    return (
        row["updated_at"][:19].replace("T", " "),
        row["incident_id"],
        row["kind"],
        row["status"],
        row["severity"],
        row["node_id"] or row["group"] or "fleet",
        f"{row['affected_count']}{share}",
        str(row["event_count"]),
        row["metrics"],
        row["title"],
    )


def anomaly_rows(records: Sequence[AnomalyRecord]) -> list[dict[str, Any]]:
    """JSON-able rows of anomaly records (with ``why``: the reason and any time left)."""
    return [record.as_row() | {"why": record.why()} for record in records]


def incident_rows(records: Sequence[IncidentRecord]) -> list[dict[str, Any]]:
    """JSON-able rows of incident records."""
    return [record.as_row() for record in records]


def _print_table(kind: str, columns: Sequence[str], cells: Sequence[tuple[str, ...]]) -> None:
    table = Table(title=f"{len(cells)} {kind}", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    severity_index = columns.index("severity")
    for row in cells:
        # Text, not markup: a title such as "[disk]" must print as typed.
        styled = [Text(cell) for cell in row]
        styled[severity_index].stylize(SEVERITY_STYLE.get(row[severity_index], ""))
        table.add_row(*styled)
    console = Console(highlight=False)
    if not console.is_terminal:  # pipes and tests: wide enough that ids are not folded
        console = Console(highlight=False, width=200)
    console.print(table)


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
