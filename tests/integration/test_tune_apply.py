"""`fleetwatch tune apply` end to end over the real Kafka: two real node remediators, canary first.

Real: the CLI command, the signed requests (issuer key), their delivery and result wait
(pipeline/tune/deliver.py), each node's executor writing proc/sys/vm/swappiness under its own
``tune_root``, its verification and rollback, and the operator approvals signed with an operator
key on the control topic. Only the probe (the node's verify metric source) is given by the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline import topics
from pipeline.bus import make_consumer
from pipeline.cli import cli
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.control.keys import load_signer
from pipeline.control.operators import make_command, publish_command
from pipeline.models import RemediationRequest, RemediationResult, decode, utc_now
from tests.integration.remediation_support import (
    ISSUER_KEY_FILE,
    KEYRING_FILE,
    OPERATOR_KEY_FILE,
    collect,
    node_remediator,
    node_settings,
    running,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

BASELINE, REGRESSED, IMPROVED = 10.0, 50.0, 0.5  # swap.used_percent; --below 5


class ScriptedProbe:
    """The node's metric source: the baseline first, then ``after``; notes the file each time."""

    def __init__(self, knob_file: Path, after: float) -> None:
        self.knob_file, self.after = knob_file, after
        self.seen: list[tuple[str, str]] = []  # (metric, knob file content when probed)

    def __call__(self, metric: str) -> float:
        self.seen.append((metric, self.knob_file.read_text().strip()))
        return BASELINE if len(self.seen) == 1 else self.after


def approve_waiting(
    kafka: KafkaSettings, topic_settings: TopicSettings, stop: Callable[[], bool]
) -> int:
    """The operator: approve every request a node reports ``awaiting_approval`` (signed)."""
    operator = load_signer(OPERATOR_KEY_FILE)
    results = topics.REMEDIATION_RESULTS.name(topic_settings.prefix)
    consumer = make_consumer(kafka, results, group_id=None)
    approved = 0
    try:
        while not stop():
            for records in consumer.poll(timeout_ms=300).values():
                for record in records:
                    result = decode(RemediationResult, record.value)
                    if result.outcome == "awaiting_approval":
                        command = make_command(
                            operator, "approve", utc_now(), request_id=result.request_id
                        )
                        publish_command(kafka, topic_settings, command)
                        approved += 1
    finally:
        consumer.close()
    return approved


def _knob_root(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name / "root"
    (root / "proc" / "sys" / "vm").mkdir(parents=True)
    (root / "proc" / "sys" / "vm" / "swappiness").write_text("60\n")
    return root


@pytest.mark.parametrize("canary_after", [REGRESSED, IMPROVED], ids=["regressed", "improved"])
def test_tune_apply_canary_first_over_kafka(
    kafka: KafkaSettings, topic_settings: TopicSettings, tmp_path: Path, canary_after: float
) -> None:
    suffix = uuid.uuid4().hex[:6]
    node_a, node_b = f"tune-a-{suffix}", f"tune-b-{suffix}"
    roots = {node: _knob_root(tmp_path, node) for node in (node_a, node_b)}
    files = {node: root / "proc" / "sys" / "vm" / "swappiness" for node, root in roots.items()}
    probes = {node_a: ScriptedProbe(files[node_a], canary_after)}
    probes[node_b] = ScriptedProbe(files[node_b], IMPROVED)
    with ExitStack() as nodes:
        for node in (node_a, node_b):
            own = node_settings(
                tmp_path / node, apply=True, allowed_actions=["set_sysctl"], tune_root=roots[node]
            )
            context, ready = node_remediator(kafka, topic_settings, own, node, probe=probes[node])
            nodes.enter_context(context)
            assert ready.wait(60), f"{node}'s remediator never got its partitions"
        operator = nodes.enter_context(running(approve_waiting, kafka=kafka,
                                               topic_settings=topic_settings))  # fmt: skip
        applied = _tune_apply(kafka, topic_settings, node_a, node_b)
    assert operator.get("result", 0) >= 1, operator

    results = _results(kafka, topic_settings, node_a)
    final = {(r.node_id, r.outcome) for r in results if r.outcome != "awaiting_approval"}
    assert probes[node_a].seen[0] == ("swap.used_percent", "60")  # the baseline, before writing
    assert probes[node_a].seen[1][1] == "10"  # the canary's file really held the change
    if canary_after == REGRESSED:
        assert applied.exit_code != 0 and f"canary {node_a}: no_effect" in applied.output
        assert files[node_a].read_text() == "60\n"  # rolled back to what was there
        assert files[node_b].read_text() == "60\n" and probes[node_b].seen == []
        assert final == {(node_a, "no_effect")}, results
        rolled = next(r for r in results if r.outcome == "no_effect")
        assert "rolled back" in rolled.detail
        assert node_b not in {r.node_id for r in _requests(kafka, topic_settings)}
    else:
        assert applied.exit_code == 0, applied.output
        assert files[node_a].read_text() == files[node_b].read_text() == "10\n"
        assert final == {(node_a, "succeeded"), (node_b, "succeeded")}, results


def _tune_apply(
    kafka: KafkaSettings, topic_settings: TopicSettings, canary: str, other: str
) -> Result:
    env = {
        "FLEETWATCH_CONTROL_KEYRING": str(KEYRING_FILE),
        "FLEETWATCH_CONTROL_SIGNING_KEY": str(ISSUER_KEY_FILE),  # the issuer signs requests
        "FLEETWATCH_TOPICS_PARTITIONS": str(topic_settings.partitions),
    }
    args = [
        "tune", "apply", "memory_pressure:vm.swappiness", "--kafka-bootstrap", kafka.bootstrap,
        "--topic-prefix", topic_settings.prefix, "--node", other, "--node", canary,
        "--canary", canary, "--below", "5", "--wait-s", "40",
    ]  # fmt: skip
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def _results(
    kafka: KafkaSettings, topic_settings: TopicSettings, canary: str
) -> list[RemediationResult]:
    def canary_done(found: list[RemediationResult]) -> bool:
        return any(r.node_id == canary and r.outcome != "awaiting_approval" for r in found)

    return collect(kafka, topic_settings, topics.REMEDIATION_RESULTS, RemediationResult,
                   canary_done, 30)  # fmt: skip


def _requests(kafka: KafkaSettings, topic_settings: TopicSettings) -> list[RemediationRequest]:
    return collect(kafka, topic_settings, topics.REMEDIATION, RemediationRequest,
                   bool, 30)  # fmt: skip
