"""A node killed mid-sequence: after its restart no request runs twice and no limit resets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.models import AuditStep, MetricBatch, RemediationResult
from tests.integration.remediation_support import (
    KEYRING_FILE,
    collect,
    publish,
    signed_drop_caches,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def _start_node(
    kafka: KafkaSettings, topic_settings: TopicSettings, node: str, tmp_path: Path, run: int
) -> subprocess.Popen[bytes]:
    """``agent --remediate --apply`` with a rate limit of two actions per hour on this node."""
    env = os.environ | {
        "FLEETWATCH_CONTROL_KEYRING": str(KEYRING_FILE),
        "FLEETWATCH_REMEDIATION_STATE_DIR": str(tmp_path / "state"),
        "FLEETWATCH_REMEDIATION_DROP_CACHES_PATH": str(tmp_path / "drop_caches"),
        "FLEETWATCH_REMEDIATION_RATE_LIMIT_PER_NODE": "2",
        "FLEETWATCH_REMEDIATION_RATE_WINDOW_S": "3600",
    }
    command = [
        sys.executable, "-m", "pipeline", "agent", "--remediate", "--apply",
        "--kafka-bootstrap", kafka.bootstrap,
        "--topic-prefix", topic_settings.prefix, "--node-id", node, "--interval-s", "5",
        "--spool-dir", str(tmp_path / "spool"),
    ]  # fmt: skip
    log = (tmp_path / f"agent-{run}.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for_first_batch(kafka: KafkaSettings, topic_settings: TopicSettings, node: str) -> None:
    """The node is up and its topics are led once its first metric batch is on the topic."""
    collect(
        kafka,
        topic_settings,
        topics.METRICS,
        MetricBatch,
        lambda batches: any(b.node_id == node for b in batches),
        90,
    )


def _results_for(
    kafka: KafkaSettings, topic_settings: TopicSettings, request_ids: set[str], deadline_s: float
) -> dict[str, list[str]]:
    found = collect(
        kafka,
        topic_settings,
        topics.REMEDIATION_RESULTS,
        RemediationResult,
        lambda results: request_ids <= {r.request_id for r in results},
        deadline_s,
    )
    outcomes: dict[str, list[str]] = {}
    for result in found:
        outcomes.setdefault(result.request_id, []).append(result.outcome)
    return outcomes


def test_a_killed_node_runs_no_request_twice_and_keeps_its_rate_limit(
    kafka: KafkaSettings, topic_settings: TopicSettings, tmp_path: Path
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    node = f"restart-{uuid.uuid4().hex[:6]}"
    caches = tmp_path / "drop_caches"  # the test's own stand-in for /proc/sys/vm/drop_caches
    caches.write_text("0\n")
    requests_topic = topics.REMEDIATION.name(topic_settings.prefix)
    first, second, third = (signed_drop_caches(node, "inc-restart-test") for _ in range(3))

    agent = _start_node(kafka, topic_settings, node, tmp_path, run=1)
    try:
        _wait_for_first_batch(kafka, topic_settings, node)
        publish(kafka, requests_topic, [(node, first)])
        assert _results_for(kafka, topic_settings, {first.request_id}, 120)[first.request_id] == [
            "succeeded"
        ]
        assert caches.read_text().strip() == "1"
    finally:
        agent.send_signal(signal.SIGKILL)  # no clean shutdown: whatever it had not saved is lost
        agent.wait(timeout=30)

    agent = _start_node(kafka, topic_settings, node, tmp_path, run=2)
    try:
        # The first request again (a replay: same id, same nonce), then two new ones.
        publish(kafka, requests_topic, [(node, first), (node, second), (node, third)])
        outcomes = _results_for(kafka, topic_settings, {second.request_id, third.request_id}, 120)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)

    assert outcomes[second.request_id] == ["succeeded"]
    # Two actions per hour: the first (before the kill) and the second use the budget up.
    assert outcomes[third.request_id] == ["refused"]
    assert outcomes[first.request_id].count("succeeded") == 1
    audit = collect(
        kafka,
        topic_settings,
        topics.REMEDIATION_AUDIT,
        AuditStep,
        lambda steps: any(s.request_id == third.request_id for s in steps),
        60,
    )
    executed = Counter(s.request_id for s in audit if s.node_id == node and s.step == "executed")
    assert executed == {first.request_id: 1, second.request_id: 1}
    assert agent.returncode == 0, (tmp_path / "agent-2.log").read_text()[-2000:]
