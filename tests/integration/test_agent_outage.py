"""The agent loses nothing while Kafka is away, even across its own restart.

These tests stop and start a broker, so they run their own private Kafka (deploy/local/kafka.sh
with a data directory of this module), never the shared stack, whatever the environment says.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import KafkaSettings, TopicSettings
from tests.integration.agent_support import (
    assert_complete_and_ordered,
    delivered_all,
    read_batches,
    spool_state,
    start_agent,
    stop_agent,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

KAFKA_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "kafka.sh"


@dataclass(frozen=True)
class PrivateKafka:
    """A broker of this module only; stop/start keep its data and port."""

    settings: KafkaSettings
    env: dict[str, str]

    def run(self, action: str) -> str:
        done = subprocess.run(
            ["bash", str(KAFKA_SCRIPT), action],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=150,
        )
        return done.stdout

    def stop(self) -> None:
        self.run("down")

    def start(self) -> None:
        self.run("up")


@pytest.fixture(scope="module")
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateKafka]:
    data_dir = tmp_path_factory.mktemp("private-kafka")
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_PORT"}
    env["FLEETWATCH_LOCAL_DIR"] = str(data_dir)
    broker = PrivateKafka(KafkaSettings(), env)
    output = broker.run("up")
    bootstrap = next(
        line.split("=", 1)[1]
        for line in output.splitlines()
        if line.startswith("FLEETWATCH_KAFKA_BOOTSTRAP=")
    )
    broker = PrivateKafka(KafkaSettings(bootstrap=bootstrap), env)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def prefix(private_kafka: PrivateKafka) -> str:
    settings = TopicSettings(prefix=f"t{uuid.uuid4().hex[:10]}.", partitions=4)
    ensure_topics(private_kafka.settings, settings, [topics.METRICS])
    return settings.prefix


def test_broker_outage_loses_nothing_and_keeps_order(
    private_kafka: PrivateKafka, prefix: str, tmp_path: Path
) -> None:
    kafka, node_id, spool = private_kafka.settings, f"out-{uuid.uuid4().hex[:6]}", tmp_path / "s"
    agent = start_agent(kafka, prefix, node_id, spool, tmp_path / "agent.log")
    try:
        wait_for(lambda: delivered_all(spool, at_least=3), 60, "acks")
        private_kafka.stop()
        wait_for(lambda: spool_state(spool)[0] >= 5, 60, "batches spooled while Kafka is down")
        private_kafka.start()
        _, produced_by_restart = spool_state(spool)
        wait_for(
            lambda: spool_state(spool)[0] == 0 and spool_state(spool)[1] > produced_by_restart,
            120,
            "the spool replayed after the broker came back",
        )
    finally:
        assert stop_agent(agent) == 0
    waiting, produced = spool_state(spool)
    assert waiting == 0
    batches = read_batches(kafka, topics.METRICS.name(prefix))
    assert_complete_and_ordered(batches, node_id, produced)


def test_agent_restarted_during_outage_delivers_its_spool(
    private_kafka: PrivateKafka, prefix: str, tmp_path: Path
) -> None:
    kafka, node_id, spool = private_kafka.settings, f"rst-{uuid.uuid4().hex[:6]}", tmp_path / "s"
    first = start_agent(kafka, prefix, node_id, spool, tmp_path / "first.log")
    try:
        wait_for(lambda: delivered_all(spool, at_least=2), 60, "acks")
        private_kafka.stop()
        wait_for(lambda: spool_state(spool)[0] >= 4, 60, "batches spooled while Kafka is down")
    finally:
        assert stop_agent(first) == 0
    left_behind, produced_by_first = spool_state(spool)
    assert left_behind >= 4, "the first agent's undelivered batches must stay on disk"

    private_kafka.start()
    second = start_agent(kafka, prefix, node_id, spool, tmp_path / "second.log")
    try:
        wait_for(
            lambda: spool_state(spool)[0] == 0 and spool_state(spool)[1] >= produced_by_first + 2,
            120,
            "the second agent to deliver the first one's spool",
        )
    finally:
        assert stop_agent(second) == 0
    _, produced = spool_state(spool)
    time.sleep(1)
    batches = read_batches(kafka, topics.METRICS.name(prefix))
    assert_complete_and_ordered(batches, node_id, produced)
