"""`fleetwatch agent --remediate`: one node process publishes metrics and executes its requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.models import MetricBatch, RemediationResult
from tests.integration.remediation_support import (
    KEYRING_FILE,
    collect,
    publish,
    signed_drop_caches,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_agent_with_remediate_publishes_and_dry_runs_its_own_requests(
    kafka: KafkaSettings, topic_settings: TopicSettings, tmp_path: Path
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    node = f"agent-rem-{uuid.uuid4().hex[:6]}"
    caches = tmp_path / "drop_caches"  # the test's own stand-in for /proc/sys/vm/drop_caches
    caches.write_text("0\n")
    env = os.environ | {
        "FLEETWATCH_CONTROL_KEYRING": str(KEYRING_FILE),
        "FLEETWATCH_REMEDIATION_STATE_DIR": str(tmp_path / "state"),
        "FLEETWATCH_REMEDIATION_DROP_CACHES_PATH": str(caches),
    }
    command = [
        sys.executable, "-m", "pipeline", "agent", "--remediate",
        "--kafka-bootstrap", kafka.bootstrap,
        "--topic-prefix", topic_settings.prefix, "--node-id", node, "--interval-s", "1",
        "--spool-dir", str(tmp_path / "spool"),
    ]  # fmt: skip
    with (tmp_path / "agent.log").open("wb") as log:
        agent = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            batches = collect(
                kafka,
                topic_settings,
                topics.METRICS,
                MetricBatch,
                lambda found: any(b.node_id == node for b in found),
                60,
            )
            assert any(b.node_id == node and b.metrics for b in batches)
            mine, other = (
                signed_drop_caches(node, "inc-agent-test"),
                signed_drop_caches("some-other-node", "inc-agent-test"),
            )
            publish(
                kafka,
                topics.REMEDIATION.name(topic_settings.prefix),
                [(node, mine), ("some-other-node", other)],
            )
            results = collect(
                kafka,
                topic_settings,
                topics.REMEDIATION_RESULTS,
                RemediationResult,
                lambda found: any(r.request_id == mine.request_id for r in found),
                90,
            )
        finally:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=60)
    outcome = {r.request_id: r.outcome for r in results}
    assert outcome[mine.request_id] == "dry_run"
    assert other.request_id not in outcome  # another node's request is not ours to run
    assert caches.read_text() == "0\n"  # dry-run: nothing was written
    assert agent.returncode == 0, (tmp_path / "agent.log").read_text()[-2000:]
