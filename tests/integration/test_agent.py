"""The agent and the simulator against a real Kafka (the shared stack is fine)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.agent.publisher import Publisher
from pipeline.agent.spool import MemorySpool
from pipeline.bus import ensure_topics
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.incidents.memory_topic import read_all
from pipeline.models import METRIC_NAME_PATTERN, InventoryRecord
from pipeline.sim import FAULT_KINDS, Scenario, SimulatedFleet, run_simulation
from tests.integration.agent_support import (
    assert_complete_and_ordered,
    delivered_all,
    read_batches,
    spool_state,
    start_agent,
    stop_agent,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def test_agent_publishes_this_machines_metrics(
    kafka: KafkaSettings, topic_settings: TopicSettings, tmp_path: Path
) -> None:
    ensure_topics(kafka, topic_settings, [topics.METRICS, topics.INVENTORY])
    node_id = f"it-agent-{uuid.uuid4().hex[:8]}"
    spool = tmp_path / "spool"
    agent = start_agent(kafka, topic_settings.prefix, node_id, spool, tmp_path / "agent.log")
    try:
        wait_for(lambda: delivered_all(spool, at_least=4), 60, "4 acks")
    finally:
        assert stop_agent(agent) == 0, (tmp_path / "agent.log").read_text()
    waiting, produced = spool_state(spool)
    assert waiting == 0, "graceful shutdown left batches behind with Kafka up"

    batches = read_batches(kafka, topics.METRICS.name(topic_settings.prefix))
    assert_complete_and_ordered(batches, node_id, produced)
    latest = batches[-1]
    assert latest.node_id == node_id
    assert 0 <= latest.metrics["cpu.usage_active"] <= 100
    assert 0 < latest.metrics["mem.used_percent"] < 100
    assert latest.metrics["agent.spool_dropped"] == 0
    assert 0 < latest.metrics["agent.rss_bytes"] < 200 * 1024 * 1024
    assert all(re.match(METRIC_NAME_PATTERN, name) for name in latest.metrics)
    # one inventory record at start; the next is due only after inventory_refresh_s (300 s)
    (record,) = read_all(kafka, topic_settings, topics.INVENTORY, InventoryRecord)
    assert (record.node_id, record.labels, record.refresh_s) == (node_id, latest.labels, 300.0)


def test_simulated_fleet_delivers_every_batch_in_order(
    kafka: KafkaSettings, topic_settings: TopicSettings, tmp_path: Path
) -> None:
    ensure_topics(kafka, topic_settings, [topics.METRICS, topics.INVENTORY])
    scenario = Scenario(
        nodes=6, faults=FAULT_KINDS, duration_s=1200, interval_s=10, warmup_s=300, seed=11
    )
    fleet = SimulatedFleet(scenario)
    topic = topics.METRICS.name(topic_settings.prefix)
    publisher = Publisher(kafka, topic, MemorySpool(64 * 1024 * 1024))
    truth = tmp_path / "truth.jsonl"
    report = run_simulation(fleet, publisher, speed=0, ground_truth_path=truth)
    publisher.close(timeout_s=5)

    assert (report.rounds, report.batches, report.spooled) == (120, 720, 0)
    assert report.delivered == 720
    batches = read_batches(kafka, topic)
    for node in fleet.nodes:
        assert_complete_and_ordered(batches, node.node_id, fleet.rounds)
    records = [json.loads(line) for line in truth.read_text().splitlines()]
    assert sorted(r["kind"] for r in records) == sorted(FAULT_KINDS)
    faulty = next(r for r in records if r["kind"] == "cpu_runaway")
    node = faulty["node_ids"][0]
    inside = [
        b.metrics["cpu.usage_user"]
        for b in batches
        if b.node_id == node and faulty["start_at"] <= b.sampled_at.isoformat() < faulty["end_at"]
    ]
    assert inside and min(inside) > 60  # the published data carries the labelled fault
    # Each simulated node announces itself like an agent: first round, then every 300 s.
    inventory = list(read_all(kafka, topic_settings, topics.INVENTORY, InventoryRecord))
    for node_state in fleet.nodes:
        mine = [r for r in inventory if r.node_id == node_state.node_id]
        offsets = [(r.published_at - mine[0].published_at).total_seconds() for r in mine]
        assert offsets == [0, 300, 600, 900] and mine[0].labels == node_state.labels
