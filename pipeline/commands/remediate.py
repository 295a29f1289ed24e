"""Commands of incidents and remediation: incidents-worker, remediator, runbooks, approve, ..."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pipeline.commands import one_line_errors

SEVERITIES = ["info", "warning", "critical"]


def _servers(flags: dict[str, Any]) -> tuple[Any, Any, Any]:
    from pipeline.commands import build_servers

    return build_servers(
        flags.pop("config_file"),
        flags.pop("kafka_bootstrap"),
        flags.pop("influx_url"),
        flags.pop("topic_prefix"),
    )


def _remediation(config_file: Path | None, **flags: Any) -> Any:
    from pipeline.config import RemediationSettings, load

    return load(RemediationSettings, config_file, **flags)


def _key(settings: Any) -> bytes:
    from pipeline.control.signing import check_key

    return check_key(settings.hmac_key)


def _labels(items: tuple[str, ...]) -> dict[str, str]:
    from pipeline.errors import ConfigError

    bad = [item for item in items if "=" not in item]
    if bad:
        raise ConfigError(f"--label {bad[0]!r}: expected KEY=VALUE")
    return dict(item.split("=", 1) for item in items)


def register(cli: click.Group, bench: click.Group) -> None:
    """Add the incident and remediation commands."""
    from pipeline.commands import server_options

    @cli.command("incidents-worker")
    @server_options
    @click.option("--runbook", type=click.Path(path_type=Path, exists=True, dir_okay=False))
    @click.option("--group-id", default="fleetwatch-incidents", show_default=True)
    @one_line_errors
    def incidents_worker(runbook: Path | None, group_id: str, **flags: Any) -> None:
        """Group anomalies into incidents; issue signed remediation requests from a runbook."""
        from pipeline.incidents.worker import run_incident_stage

        config_file = flags["config_file"]
        kafka, influx, topic_settings = _servers(flags)
        settings = _remediation(config_file, runbook=runbook)
        counters = run_incident_stage(kafka, topic_settings, influx, settings, group_id=group_id)
        click.echo(
            f"{counters.anomalies} anomaly events → {counters.incidents_opened} incidents; "
            f"{counters.requests_issued} requests issued, {counters.requests_blocked} blocked",
            err=True,
        )

    @cli.command()
    @server_options
    @click.option("--node-id", required=True, help="This node; only its requests are executed.")
    @click.option("--label", "labels", multiple=True, metavar="KEY=VALUE")
    @click.option("--apply", is_flag=True, default=None, help="Act (default: dry-run).")
    @click.option("--state-dir", type=click.Path(path_type=Path))
    @one_line_errors
    def remediator(
        node_id: str,
        labels: tuple[str, ...],
        apply: bool | None,
        state_dir: Path | None,
        **flags: Any,
    ) -> None:
        """Run the node-side executor alone (the agent runs it with `agent --remediate`)."""
        from pipeline.remediate.worker import run_node_remediator

        config_file = flags["config_file"]
        kafka, influx, topic_settings = _servers(flags)
        settings = _remediation(config_file, apply=apply, state_dir=state_dir)
        outcomes = run_node_remediator(
            kafka, topic_settings, influx, settings, node_id, _labels(labels)
        )
        click.echo(", ".join(f"{k}={v}" for k, v in sorted(outcomes.items())) or "no requests")

    @cli.group()
    def runbooks() -> None:
        """Remediation runbooks."""

    @runbooks.command("check")
    @click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
    def runbooks_check(file: Path) -> None:
        """Validate FILE; print every problem as FILE:LINE: field: message and exit 1."""
        from pipeline.incidents.runbooks import RunbookError, load_runbook

        try:
            book = load_runbook(file)
        except RunbookError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            sys.exit(1)
        click.echo(f"{file}: {len(book.rules)} rules OK")

    @cli.command()
    @server_options
    @click.argument("request_id")
    @one_line_errors
    def approve(request_id: str, **flags: Any) -> None:
        """Approve a risky remediation request waiting on its node."""
        _operator_command(flags, "approve", request_id=request_id)
        click.echo(f"approved {request_id}")

    @cli.command()
    @server_options
    @click.argument("incident_id")
    @click.option("--owner", help="Who owns the incident from now on.")
    @one_line_errors
    def ack(incident_id: str, owner: str | None, **flags: Any) -> None:
        """Acknowledge an incident (and optionally give it an owner)."""
        _operator_command(flags, "ack", incident_id=incident_id, owner=owner)
        click.echo(f"acknowledged {incident_id}")

    @cli.command()
    @server_options
    @click.option("--node", help="Silence one node.")
    @click.option("--label", metavar="KEY=VALUE", help="Silence every node with this label.")
    @click.option("--for", "duration", required=True, help="How long: 90s, 15m, 2h, 1d.")
    @click.option("--reason", default="maintenance", show_default=True)
    @one_line_errors
    def silence(
        node: str | None, label: str | None, duration: str, reason: str, **flags: Any
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
            flags, "silence", node_id=node, label=label, until_at=until, reason=reason
        )
        click.echo(
            f"silenced {node or label} until {until.isoformat(timespec='seconds')} "
            f"({command.command_id})"
        )

    @cli.command()
    @server_options
    @click.option("--follow", "-f", is_flag=True, help="Keep printing new alerts.")
    @click.option("--node", help="Only this node (host incidents, fleet incidents it is in).")
    @click.option(
        "--severity",
        type=click.Choice(SEVERITIES),
        default="info",
        show_default=True,
        help="Minimum severity.",
    )
    @click.option("--json", "as_json", is_flag=True, help="One JSON message per line.")
    @one_line_errors
    def alerts(follow: bool, node: str | None, severity: str, as_json: bool, **flags: Any) -> None:
        """Print incidents and anomalies (all so far, or live with --follow)."""
        from pipeline.incidents.alerts import follow_alerts

        kafka, _influx, topic_settings = _servers(flags)
        follow_alerts(
            kafka,
            topic_settings,
            click.echo,
            node=node,
            min_severity=severity,
            as_json=as_json,
            follow=follow,
        )


def _operator_command(flags: dict[str, Any], kind: str, **fields: Any) -> Any:
    """Sign and publish one operator command with the configured HMAC key."""
    from pipeline import topics
    from pipeline.bus import ensure_topics
    from pipeline.control.operators import make_command, publish_command
    from pipeline.models import utc_now

    config_file = flags["config_file"]
    kafka, _influx, topic_settings = _servers(flags)
    ensure_topics(kafka, topic_settings, [topics.CONTROL])
    key = _key(_remediation(config_file))
    command = make_command(key, kind, utc_now(), **fields)
    publish_command(kafka, topic_settings, command)
    return command
