"""``fleetwatch change record``: a deploy or config change from a CI/CD hook, onto fleet.changes."""

from __future__ import annotations

import json
from typing import Any

import click

from pipeline.commands import (
    config_option,
    kafka_bootstrap_option,
    one_line_errors,
    topic_prefix_option,
)

KINDS = ("deploy", "config", "package", "kernel", "restart")


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the ``change`` group to the CLI."""
    cli.add_command(change)


@click.group()
def change() -> None:
    """Changes to the fleet (deploys, config), linked to incidents that follow them."""


@change.command("record")
@config_option("[kafka], [topics]")
@kafka_bootstrap_option
@topic_prefix_option
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What changed.")
@click.option("--role", help="Role label of the nodes it hit (give --role, --node or both).")
@click.option("--node", "nodes", multiple=True, help="A node it hit; repeatable.")
@click.option("--version", "version", help="The version rolled out (e.g. 1.2.3).")
@click.option("--who", required=True, help="Who or what made it (ci, a login name).")
@click.option("--summary", default="", help="One line for the incident page.")
@click.option("--id", "change_id", help="Change id (default: a new random one).")
@click.option(
    "--at",
    "changed_at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    help="When it happened, ISO 8601 (default now; no zone = UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded change as JSON.")
@one_line_errors
def record(**options: Any) -> None:
    """Publish one ChangeEvent to fleet.changes and wait for Kafka's acknowledgement."""
    from pipeline.commands.change_record import record_change

    recorded = record_change(options)
    if options["as_json"]:
        click.echo(recorded.model_dump_json(indent=2))
    else:
        click.echo(json.dumps({"change_id": recorded.change_id, "kind": recorded.kind}))
