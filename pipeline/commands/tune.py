"""``fleetwatch tune suggest``: ranked OS tuning suggestions for an incident's diagnosis kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from pipeline.commands import influx_url_option, one_line_errors
from pipeline.config import InfluxSettings, load
from pipeline.errors import QueryError


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the ``tune`` group."""
    del bench
    cli.add_command(tune)


@click.group()
def tune() -> None:
    """OS tuning advice per diagnosis kind (sysctl, cgroup v2, systemd, journald)."""


@tune.command("suggest")
@click.argument("incident", required=False)
@click.option("--node", help="Use the latest diagnosed incident of this node.")
@click.option("--kind", help="Diagnosis kind directly (no store needed), e.g. io_saturation.")
@click.option("--unit", help="Culprit systemd unit, for its cgroup files (e.g. app.service).")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("/"),
    show_default=True,
    help="Where proc/sys/etc are read for current values: / on the node, or a copied tree.",
)
@influx_url_option
@click.option("--bucket", help="Bucket, 'database/retention' on 1.8.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@one_line_errors
def tune_suggest(
    incident: str | None, node: str | None, kind: str | None, unit: str | None, root: Path,
    influx_url: str | None, bucket: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Suggestions for INCIDENT (or --node's latest incident, or --kind), best first."""
    from pipeline.tune.knobs import read_current
    from pipeline.tune.rules import suggest

    if kind is None:
        influx = load(InfluxSettings, None, url=influx_url, bucket=bucket)
        kind = _kind_of(influx, incident, node)
    rows = [s.as_row() for s in suggest(kind, lambda knob: read_current(knob, root, unit))]
    if as_json:
        click.echo(json.dumps({"kind": kind, "suggestions": rows}, indent=2))
        return
    if not rows:
        click.echo(f"{kind}: no OS knob helps this kind; follow its runbook (notify or rollback).")
    for rank, row in enumerate(rows, 1):
        click.echo(f"{rank}. [{row['scope']}] {row['knob']}: {row['current']} → {row['proposed']}"
                   f" (bounds {row['bounds']})\n   when: {row['precondition']}\n"
                   f"   expect: {row['effect']}\n   undo: {row['rollback']}")  # fmt: skip


def _kind_of(influx: InfluxSettings, incident: str | None, node: str | None) -> str:
    """The diagnosis kind recorded with the incident's remediation steps (incident_actions)."""
    from pipeline.ask.fetch import fetch_rows
    from pipeline.ask.model import AskQuery
    from pipeline.ask.run import vocabulary_at

    if not incident and not node:
        raise QueryError("name an INCIDENT, --node or --kind")
    now_at = datetime.now(UTC)
    query = AskQuery(what="actions", nodes=(node,) if node else (), since="4w")
    rows = fetch_rows(query, influx, vocabulary_at(influx, now_at), now_at)
    match = [row for row in rows if not incident or row["incident"] == incident]
    if not match:
        raise QueryError(
            f"no diagnosed incident {incident or 'on ' + str(node)} in the last 4 weeks"
        )
    return str(match[0]["kind"])
