"""Signed operator commands: approve, ack, silence, and incidents label | false-positive."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from pipeline.commands import build_servers, one_line_errors, server_options
from pipeline.commands.query import incidents

KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the operator commands and the signing keys' commands."""
    from pipeline.commands.keys import keys

    cli.add_command(keys)
    cli.add_command(approve)
    cli.add_command(ack)
    cli.add_command(silence)
    incidents.add_command(label)
    incidents.add_command(false_positive)


@click.command()
@server_options
@click.argument("request_id")
@one_line_errors
def approve(request_id: str, **servers: Any) -> None:
    """Approve a risky remediation request waiting on its node."""
    _operator_command(servers, "approve", request_id=request_id)
    click.echo(f"approved {request_id}")


@click.command()
@server_options
@click.argument("incident_id")
@click.option("--owner", help="Who owns the incident from now on.")
@one_line_errors
def ack(incident_id: str, owner: str | None, **servers: Any) -> None:
    """Acknowledge an incident (and optionally give it an owner)."""
    _operator_command(servers, "ack", incident_id=incident_id, owner=owner)
    click.echo(f"acknowledged {incident_id}")


@click.command()
@server_options
@click.argument("incident_id")
@click.argument("kind")
@one_line_errors
def label(incident_id: str, kind: str, **servers: Any) -> None:
    """Confirm what an incident was (cpu_saturation, memory_leak, ... or a name of your own).

    The incident stage remembers it, the diagnosis learns it, and verified actions are rated
    under this kind.
    """
    from pipeline.errors import ConfigError

    if not KIND_NAME.match(kind):
        raise ConfigError(f"kind {kind!r}: use lower case letters, digits and _ (disk_full)")
    _operator_command(servers, "label", incident_id=incident_id, fault_kind=kind)
    click.echo(f"labelled {incident_id} as {kind}")


@click.command("false-positive")
@server_options
@click.argument("incident_id")
@click.option("--reason", default="", help="Why it was not a fault.")
@one_line_errors
def false_positive(incident_id: str, reason: str, **servers: Any) -> None:
    """Dismiss an incident: its deviations on its nodes stop paging for a while.

    How long: ``[incidents] false_positive_mute_s``; the diagnosis learns the pattern.
    """
    _operator_command(servers, "false_positive", incident_id=incident_id, reason=reason)
    click.echo(f"dismissed {incident_id} as a false positive")


@click.command()
@server_options
@click.option("--node", help="Silence one node.")
@click.option("--label", metavar="KEY=VALUE", help="Silence every node with this label.")
@click.option("--for", "duration", required=True, help="How long: 90s, 15m, 2h, 1d.")
@click.option("--reason", default="maintenance", show_default=True)
@one_line_errors
def silence(
    node: str | None, label: str | None, duration: str, reason: str, **servers: Any
) -> None:
    """Silence incidents and remediation for a node or a label during maintenance."""
    from pipeline.control.operators import parse_duration
    from pipeline.errors import ConfigError
    from pipeline.models import utc_now

    if (node is None) == (label is None):
        raise ConfigError("give exactly one of --node or --label")
    try:
        until = utc_now() + parse_duration(duration)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    command = _operator_command(
        servers, "silence", node_id=node, label=label, until_at=until, reason=reason
    )
    click.echo(
        f"silenced {node or label} until {until.isoformat(timespec='seconds')} "
        f"({command.command_id})"
    )


def _operator_command(servers: dict[str, Any], kind: str, **fields: Any) -> Any:
    """Sign one operator command with the operator's private key and publish it."""
    from pipeline import topics
    from pipeline.bus import ensure_topics
    from pipeline.config import ControlSettings, load
    from pipeline.control.keys import load_signer
    from pipeline.control.operators import make_command, publish_command
    from pipeline.models import utc_now

    config_file: Path | None = servers["config_file"]
    signer = load_signer(load(ControlSettings, config_file).signing_key)  # before any server
    kafka, _influx, topic_settings = build_servers(**servers)
    ensure_topics(kafka, topic_settings, [topics.CONTROL])
    command = make_command(signer, kind, utc_now(), **fields)
    publish_command(kafka, topic_settings, command)
    return command
