"""Commands of the node side: ``remediator``, the executor without the agent."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands import build_servers, one_line_errors, server_options, settings_options
from pipeline.config import RemediationSettings


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``remediator``."""
    cli.add_command(remediator)


@click.command()
@server_options
@click.option("--node-id", required=True, help="This node; only its requests are executed.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE")
@settings_options(RemediationSettings, "apply", "state_dir")
@one_line_errors
def remediator(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    topic_prefix: str | None,
    node_id: str,
    labels: tuple[str, ...],
    apply: bool | None,
    state_dir: Path | None,
) -> None:
    """Run the node-side executor alone (the agent runs it with `agent --remediate`)."""
    from pipeline.config import ControlSettings, load
    from pipeline.remediate.worker import run_node_remediator

    kafka, influx, topic_settings = build_servers(
        config_file, kafka_bootstrap, influx_url, topic_prefix
    )
    settings = load(RemediationSettings, config_file, apply=apply, state_dir=state_dir)
    control = load(ControlSettings, config_file)
    outcomes = run_node_remediator(
        kafka, topic_settings, influx, settings, control, node_id, _labels(labels)
    )
    click.echo(", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())) or "no requests")


def _labels(items: tuple[str, ...]) -> dict[str, str]:
    from pipeline.errors import ConfigError

    bad = [item for item in items if "=" not in item]
    if bad:
        raise ConfigError(f"--label {bad[0]!r}: expected KEY=VALUE")
    return dict(item.split("=", 1) for item in items)
