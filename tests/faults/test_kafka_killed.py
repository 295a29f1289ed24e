"""Kafka SIGKILLed mid-stream and restarted: agents spool and replay, the worker resumes.

Counted end to end: every batch a simulated fleet and a real ``fleetwatch agent`` produced is
scored by the worker and stored in InfluxDB once (count in = count out), and the agent's own
batches arrive complete and in order.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bench.worker_process import WorkerProcess
from pipeline.config import InfluxSettings, TopicSettings
from tests.faults.conftest import PrivateStack
from tests.faults.fleet import FleetPublisher, expected_keys, rounds, stored_host_scores
from tests.integration.agent_support import (
    assert_complete_and_ordered,
    read_batches,
    spool_state,
    start_agent,
    stop_agent,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(360)]
NODES = [f"kk-{i}" for i in range(10)]
ROUNDS = 80  # at 2 rounds/s: 40 s of load, the broker dies ~10 s in


def test_broker_sigkilled_mid_stream_every_batch_is_processed(
    private_stack: PrivateStack,
    fault_topics: TopicSettings,
    fault_influx: InfluxSettings,
    start_fault_worker: Callable[[str], WorkerProcess],
    tmp_path: Path,
) -> None:
    kafka = private_stack.kafka
    worker = start_fault_worker("w0")
    agent_node, agent_spool = f"kk-agent-{uuid.uuid4().hex[:6]}", tmp_path / "agent-spool"
    agent = start_agent(kafka, fault_topics.prefix, agent_node, agent_spool, tmp_path / "a.log")
    fleet = FleetPublisher(kafka, fault_topics, tmp_path / "fleet-spool")
    try:
        fleet.start(rounds(NODES, 0, ROUNDS), rounds_per_s=2.0)
        wait_for(lambda: worker.metrics().get("fleetwatch_batches_total", 0) > 50, 90, "flow")
        private_stack.kill("kafka")
        killed_at = time.monotonic()
        wait_for(lambda: spool_state(agent_spool)[0] >= 3, 60, "the agent spooling")
        time.sleep(max(0.0, 10 - (time.monotonic() - killed_at)))
        spooled_during_outage = len(fleet.publisher.spool)
        private_stack.start("kafka")
        fleet.join(timeout_s=180)
        wait_for(lambda: fleet.drain_all(5) == 0, 120, "the fleet's spool to replay")
        wait_for(lambda: spool_state(agent_spool)[0] == 0, 120, "the agent's spool to replay")
    finally:
        assert stop_agent(agent) == 0, "the agent did not exit cleanly"
        fleet.close()
    assert spooled_during_outage > 0, "the outage should have made the fleet spool"
    assert fleet.publisher.spool.dropped == 0
    _, agent_produced = spool_state(agent_spool)

    sent = [b for batches in rounds(NODES, 0, ROUNDS) for b in batches]
    want = expected_keys(sent)

    def all_stored() -> bool:
        stored = stored_host_scores(fault_influx, "^kk-")
        fleet_part = {k for k in stored if k[0] != agent_node}
        return len(fleet_part) >= len(want) and len(stored - fleet_part) >= agent_produced

    wait_for(all_stored, 180, "every batch scored and stored")
    stored = stored_host_scores(fault_influx, "^kk-")
    assert worker.alive, "the worker died while the broker was away"
    assert {k for k in stored if k[0] != agent_node} == want
    assert len([k for k in stored if k[0] == agent_node]) == agent_produced
    on_topic = read_batches(kafka, topics.METRICS.name(fault_topics.prefix))
    assert_complete_and_ordered(on_topic, agent_node, agent_produced)
    metrics = worker.metrics()
    assert metrics["fleetwatch_dead_letters_total"] == 0
    assert metrics["fleetwatch_sink_dropped_points"] == 0
