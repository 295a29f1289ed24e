"""A worker SIGKILLed while InfluxDB is down and its points wait in memory: none is lost.

A node's models (and so its Kafka offsets) are saved only once the node's points are written,
so whatever the dead worker held in its sink buffer was never acknowledged: the next worker
re-reads those batches from the last commit and writes their points when InfluxDB is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.bench.worker_process import WorkerProcess
from pipeline.config import InfluxSettings, StreamSettings, TopicSettings
from tests.faults.conftest import PrivateStack
from tests.faults.fleet import FleetPublisher, expected_keys, stored_host_scores
from tests.unit.stream.workload import batch_at
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]
NODES = [f"ik-{i}" for i in range(8)]
WARM, ROUNDS = 100, 180  # rounds WARM.. are published while InfluxDB is down
COMMIT_INTERVAL_S = 2.8  # Faust's broker_commit_interval


def test_worker_killed_with_points_buffered_during_an_outage_loses_none(
    private_stack: PrivateStack,
    fault_topics: TopicSettings,
    fault_influx: InfluxSettings,
    start_fault_worker: Callable[[str], WorkerProcess],
    tmp_path: Path,
) -> None:
    source = [[batch_at(n, seq) for n in NODES] for seq in range(ROUNDS)]
    want = expected_keys([b for batches in source for b in batches])
    first = start_fault_worker("w0")
    fleet = FleetPublisher(private_stack.kafka, fault_topics, tmp_path / "spool")
    try:
        fleet.start(iter(source[:WARM]), rounds_per_s=50.0)
        fleet.join(timeout_s=120)
        warm = WARM * len(NODES)
        wait_for(lambda: len(stored_host_scores(fault_influx, "^ik-")) >= warm, 120, "warm-up")
        private_stack.kill("influxdb")
        fleet.start(iter(source[WARM:]), rounds_per_s=20.0)
        fleet.join(timeout_s=120)
        total = ROUNDS * len(NODES)
        wait_for(
            lambda: first.metrics().get("fleetwatch_batches_total", 0) >= total,
            120,
            "the outage's batches processed by the first worker",
        )
        # A whole snapshot interval (10 s) and a commit pass with the points still held: a worker
        # that saved and committed regardless of them would lose them with this kill.
        time.sleep(StreamSettings().snapshot_interval_s + 2 * COMMIT_INTERVAL_S)
        held = first.metrics()["fleetwatch_sink_buffer_points"]
        assert first.process is not None
        first.process.kill()  # SIGKILL: the buffered points die with it
        first.process.wait(timeout=30)
    finally:
        fleet.close()
    assert held > 0, "nothing was buffered when the worker died"
    private_stack.start("influxdb")
    second = start_fault_worker("w1")
    wait_for(lambda: len(stored_host_scores(fault_influx, "^ik-")) >= len(want), 180, "stored")
    assert stored_host_scores(fault_influx, "^ik-") == want
    assert second.metrics()["fleetwatch_sink_dropped_points"] == 0
