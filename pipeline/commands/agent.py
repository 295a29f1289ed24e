"""``fleetwatch agent`` (run or ``--once``) and ``fleetwatch bench agent`` (its overhead)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.commands import (
    config_option,
    kafka_bootstrap_option,
    one_line_errors,
    topic_prefix_option,
)
from pipeline.config import AgentSettings

F = TypeVar("F", bound=Callable[..., Any])


def _env(field: str) -> str:
    return AgentSettings.env_name(field)


def agent_options(command: F) -> F:
    """Flags of every AgentSettings field people set by hand (--kebab-case of the field)."""
    options = [
        config_option("[agent], [kafka], [topics]"),
        kafka_bootstrap_option,
        topic_prefix_option,
        click.option("--node-id", help=f"Node id (env {_env('node_id')}; default hostname)."),
        click.option(
            "--label",
            "labels",
            multiple=True,
            metavar="KEY=VALUE",
            help=f"Label on every batch, repeatable (env {_env('labels')} as JSON).",
        ),
        click.option("--interval-s", type=float, help="Seconds between rounds (>= 1)."),
        click.option(
            "--collectors", help=f"Comma-separated collectors (env {_env('collectors')})."
        ),
        click.option("--spool-dir", type=click.Path(path_type=Path), help="Spool directory."),
        click.option("--spool-max-bytes", type=int, help="Spool bound; oldest dropped beyond."),
        click.option("--proc-root", type=click.Path(path_type=Path), help="Host /proc."),
        click.option("--sys-root", type=click.Path(path_type=Path), help="Host /sys."),
        click.option("--rootfs", type=click.Path(path_type=Path), help="Host / (for disk use)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_agent_settings(**flags: Any) -> tuple[Any, Any, Any]:
    """AgentSettings, KafkaSettings and TopicSettings from file + env + flags."""
    from pipeline.config import KafkaSettings, TopicSettings, load
    from pipeline.errors import ConfigError

    config_file = flags.pop("config_file")
    kafka = load(KafkaSettings, config_file, bootstrap=flags.pop("kafka_bootstrap"))
    topic_settings = load(TopicSettings, config_file, prefix=flags.pop("topic_prefix"))
    labels = flags.pop("labels")
    if labels:
        bad = [item for item in labels if "=" not in item]
        if bad:
            raise ConfigError(f"--label {bad[0]!r}: expected KEY=VALUE")
        flags["labels"] = dict(item.split("=", 1) for item in labels)
    return load(AgentSettings, config_file, **flags), kafka, topic_settings


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``agent`` to the CLI and ``agent`` to ``bench``."""
    cli.add_command(agent)
    bench.add_command(bench_agent)


@click.command()
@agent_options
@click.option("--once", is_flag=True, help="Print one round as JSON and exit.")
@click.option(
    "--remediate",
    is_flag=True,
    help="Also execute this node's signed remediation requests (dry-run unless --apply).",
)
@click.option("--apply", is_flag=True, help="With --remediate: act instead of dry-run.")
@one_line_errors
def agent(once: bool, remediate: bool, apply: bool, **flags: Any) -> None:
    """Run the node agent: sample this machine, spool, publish to Kafka."""
    if apply and not remediate:
        raise click.UsageError("--apply only makes sense with --remediate")
    config_file = flags["config_file"]
    settings, kafka, topic_settings = build_agent_settings(**flags)
    if once:
        from pipeline.agent.run import sample_once

        click.echo(sample_once(settings).model_dump_json(indent=2))
        return
    from pipeline.agent.run import run_agent

    if not remediate:
        run_agent(settings, kafka, topic_settings)
        return
    from pipeline.commands.node import run_agent_with_remediator

    run_agent_with_remediator(settings, kafka, topic_settings, config_file, apply)


@click.command("agent")
@click.option("--seconds", type=click.FloatRange(5), default=180.0, show_default=True)
@click.option("--warmup-s", type=click.FloatRange(0), default=15.0, show_default=True)
@click.option("--interval-s", type=click.FloatRange(1), default=10.0, show_default=True)
@kafka_bootstrap_option
@click.option("--topic-prefix", default="bench.", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def bench_agent(
    seconds: float,
    warmup_s: float,
    interval_s: float,
    kafka_bootstrap: str | None,
    topic_prefix: str,
    as_json: bool,
) -> None:
    """CPU % of one core and RSS of `fleetwatch agent` at a steady interval."""
    from pipeline.agent.overhead import bench_agent_overhead

    figures = bench_agent_overhead(seconds, warmup_s, interval_s, kafka_bootstrap, topic_prefix)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        click.echo(f"{key:>22}: {value}")
    sys.stdout.flush()
