"""Change events on a real Kafka: `fleetwatch change record` and the agent's package watch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics, make_consumer
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.models import ChangeEvent, decode
from tests.integration.agent_support import stop_agent, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _read_changes(kafka: KafkaSettings, prefix: str, idle_ms: int = 3000) -> list[ChangeEvent]:
    topic = topics.CHANGES.name(prefix)
    consumer = make_consumer(kafka, topic, consumer_timeout_ms=idle_ms)
    try:
        return [decode(ChangeEvent, message.value) for message in consumer]
    finally:
        consumer.close()


def test_change_record_is_consumed_from_the_topic(
    kafka: KafkaSettings, topic_settings: TopicSettings
) -> None:
    command = [sys.executable, "-m", "pipeline", "change", "record", "--kind", "deploy"]
    command += ["--role", "web", "--version", "1.2.3", "--who", "ci", "--json"]
    command += ["--summary", "api rollout", "--at", "2026-11-30T06:00:00+00:00"]
    command += ["--kafka-bootstrap", kafka.bootstrap, "--topic-prefix", topic_settings.prefix]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    printed = ChangeEvent.model_validate_json(done.stdout)

    (consumed,) = _read_changes(kafka, topic_settings.prefix)
    assert consumed == printed
    assert (consumed.kind, consumed.role, consumed.version, consumed.who) == (
        "deploy",
        "web",
        "1.2.3",
        "ci",
    )
    assert consumed.changed_at.isoformat() == "2026-11-30T06:00:00+00:00"


def test_change_record_refuses_a_change_without_target(
    kafka: KafkaSettings, topic_settings: TopicSettings
) -> None:
    command = [sys.executable, "-m", "pipeline", "change", "record", "--kind", "config"]
    command += ["--who", "ci", "--kafka-bootstrap", kafka.bootstrap]
    command += ["--topic-prefix", topic_settings.prefix]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "names its role, its nodes, or both" in done.stderr
    ensure_topics(kafka, topic_settings, [topics.CHANGES])
    assert _read_changes(kafka, topic_settings.prefix, idle_ms=1500) == []


def test_agent_reports_a_package_upgrade(
    kafka: KafkaSettings, topic_settings: TopicSettings, tmp_path: Path
) -> None:
    rootfs = tmp_path / "root"
    dpkg_log = rootfs / "var" / "log" / "dpkg.log"
    dpkg_log.parent.mkdir(parents=True)
    dpkg_log.write_text("2026-11-29 10:00:00 upgrade old:amd64 1.0 1.1\n")  # history, not news
    node_id = f"it-change-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "pipeline", "agent", "--interval-s", "1"]
    command += ["--node-id", node_id, "--spool-dir", str(tmp_path / "spool")]
    command += ["--topic-prefix", topic_settings.prefix, "--rootfs", str(rootfs)]
    command += ["--label", "role=web"]
    env = os.environ | {"FLEETWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap}
    log_path = tmp_path / "agent.log"
    with log_path.open("ab") as out:
        agent = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (tmp_path / "spool" / "state.json").exists(), 60, "the first round")
        with dpkg_log.open("a") as log_file:
            log_file.write("2026-11-30 06:00:01 upgrade openssl:amd64 3.0.2-1.10 3.0.2-1.12\n")
        found: list[ChangeEvent] = []

        def package_seen() -> bool:
            found[:] = [c for c in _read_changes(kafka, topic_settings.prefix, 1000)]
            return any(c.kind == "package" for c in found)

        wait_for(package_seen, 60, "a package ChangeEvent")
    finally:
        assert stop_agent(agent) == 0, log_path.read_text()
    (package,) = [c for c in found if c.kind == "package"]
    assert package.nodes == [node_id]
    assert package.role == "web"
    assert package.who == "fleetwatch-agent"
    assert package.version == "openssl 3.0.2-1.12"
    assert "old" not in package.summary
    assert json.loads(package.model_dump_json())["change_id"] == package.change_id
