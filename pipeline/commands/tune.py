"""``fleetwatch tune suggest | apply``: tuning advice per diagnosis kind, applied canary-first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pipeline.commands import build_servers, influx_url_option, one_line_errors, server_options
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


@tune.command("apply")
@server_options
@click.argument("target")
@click.option("--node", "nodes", multiple=True, required=True, help="Target node (repeat).")
@click.option("--canary", help="Node changed first, alone (default: the first --node).")
@click.option("--knob", help="Which suggestion of an INCIDENT's kind (default: the top one).")
@click.option("--unit", help="The unit whose cgroup or properties change.")
@click.option("--value", help="Value to set when the proposal is not a number (1073741824).")
@click.option("--verify-metric", help="Metric that must fall (default: the suggestion's).")
@click.option("--below", type=float, required=True, help="verify-metric must fall below this.")
@click.option("--wait-s", type=float, default=900.0, show_default=True, help="Per node.")
@one_line_errors
def tune_apply(
    target: str, nodes: tuple[str, ...], canary: str | None, knob: str | None, unit: str | None,
    value: str | None, verify_metric: str | None, below: float, wait_s: float, **servers: Any,
) -> None:  # fmt: skip
    """Apply TARGET (KIND:KNOB, or an INCIDENT's suggestion) as signed, approved typed actions.

    The canary node acts alone; the rest follow one by one only after the canary's node verified
    the metric moved. A node rolls its change back itself when the metric regressed or timed out.
    """
    from pipeline.config import ControlSettings, IncidentSettings, load
    from pipeline.control.keys import load_signer
    from pipeline.models import utc_now
    from pipeline.tune.apply import change_of, request_for, roll_out
    from pipeline.tune.deliver import kafka_deliver

    kafka, influx, topic_settings = build_servers(**servers)
    incident_id, suggestion = _suggestion_of(target, knob, influx)
    metric = verify_metric or suggestion.effect.split()[0]
    change = change_of(suggestion, unit, value, metric, below)
    signer = load_signer(load(ControlSettings, servers["config_file"]).signing_key)  # issuer's
    ttl_s = load(IncidentSettings, servers["config_file"]).request_ttl_s
    order = [canary] + [n for n in nodes if n != canary] if canary else list(nodes)
    requests = [
        request_for(change, incident_id, node, signer, utc_now(), ttl_s + wait_s, blast_nodes=i)
        for i, node in enumerate(order, 1)
    ]
    click.echo(f"{change.action} {change.params} on {', '.join(order)} (canary {order[0]})")
    waiting = lambda r: click.echo(f"{r.node_id}: run `fleetwatch approve {r.request_id}`")  # noqa: E731
    rollout = roll_out(requests, kafka_deliver(kafka, topic_settings, wait_s, waiting))
    for result in [rollout.canary, *rollout.fleet]:
        if result is not None:
            click.echo(f"{result.node_id}: {result.outcome}: {result.detail}")
    if rollout.halted:
        raise click.ClickException(f"halted: {rollout.halted}")


def _suggestion_of(target: str, knob: str | None, influx: InfluxSettings) -> tuple[str, Any]:
    """(incident id, suggestion) for ``KIND:KNOB`` or an incident id (its kind's suggestion)."""
    from pipeline.errors import ConfigError
    from pipeline.tune.apply import ACTIONS
    from pipeline.tune.rules import suggest

    kind, _, named = target.partition(":")
    incident_id = f"tune-{kind}" if named else target
    if not named:
        kind, named = _kind_of(influx, target, None), knob or ""
    found = [s for s in suggest(kind, lambda _k: None) if s.knob.scope in ACTIONS]
    chosen = [s for s in found if s.knob.name == named] if named else found[:1]
    if not chosen:
        names = ", ".join(f"{kind}:{s.knob.name}" for s in found) or "none"
        raise ConfigError(f"no applicable suggestion {target!r}; applicable: {names}")
    return incident_id, chosen[0]
