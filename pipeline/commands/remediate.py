"""Commands of the node side: ``remediator``, the executor without the agent."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands import (
    build_servers,
    kafka_bootstrap_option,
    one_line_errors,
    server_options,
    settings_options,
)
from pipeline.config import RemediationSettings


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``remediator`` and ``bench remediation``."""
    cli.add_command(remediator)
    bench.add_command(bench_remediation)


@click.command("remediation")
@kafka_bootstrap_option
@click.option("--nodes", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True)
@click.option("--requests", type=click.IntRange(1), default=2_000, show_default=True)
@click.option("--processes", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--partitions", type=click.IntRange(1, 4096), default=32, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def bench_remediation(
    kafka_bootstrap: str | None,
    nodes: int,
    requests: int,
    processes: int,
    partitions: int,
    as_json: bool,
) -> None:
    """Bytes a node reads per request issued, and the issuer's signed requests/s (real Kafka)."""
    import json

    from pipeline.bench.remediation import run_remediation_bench
    from pipeline.config import KafkaSettings, load

    kafka = load(KafkaSettings, None, bootstrap=kafka_bootstrap)
    figures = run_remediation_bench(kafka, nodes, min(requests, nodes), processes, partitions)
    if as_json:
        click.echo(json.dumps(figures.as_dict()))
        return
    for name, value in figures.as_dict().items():
        click.echo(
            f"{name:<28} {value:,.4g}" if isinstance(value, float) else f"{name:<28} {value:,}"
        )


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

    kafka, _influx, topic_settings = build_servers(
        config_file, kafka_bootstrap, influx_url, topic_prefix
    )
    settings = load(RemediationSettings, config_file, apply=apply, state_dir=state_dir)
    control = load(ControlSettings, config_file)
    outcomes = run_node_remediator(
        kafka, topic_settings, settings, control, node_id, _labels(labels)
    )
    click.echo(", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())) or "no requests")


def _labels(items: tuple[str, ...]) -> dict[str, str]:
    from pipeline.errors import ConfigError

    bad = [item for item in items if "=" not in item]
    if bad:
        raise ConfigError(f"--label {bad[0]!r}: expected KEY=VALUE")
    return dict(item.split("=", 1) for item in items)
