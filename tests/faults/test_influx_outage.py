"""InfluxDB killed for 30 s while the worker writes: points are buffered, then all written.

The worker's sink keeps the points in its bounded buffer and retries with capped backoff (15 s at
most), so an outage shorter than the buffer lasts loses nothing. 30 s shows the same property as a
minute (the backoff is capped well below either) at half the CI time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.bench.worker_process import WorkerProcess
from pipeline.config import InfluxSettings, TopicSettings
from tests.faults.conftest import PrivateStack
from tests.faults.fleet import FleetPublisher, expected_keys, stored_host_scores
from tests.integration.test_worker import read_rows
from tests.unit.stream.workload import batch_at
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]
NODES = [f"io-{i}" for i in range(8)]
WARM, ROUNDS, FAULT = 300, 380, range(330, 336)  # the fault lands while InfluxDB is down
OUTAGE_S = 30


def _source() -> list[list]:
    return [
        [batch_at(n, seq, fault=96.0 if n == NODES[0] and seq in FAULT else None) for n in NODES]
        for seq in range(ROUNDS)
    ]


def test_influxdb_down_for_30_s_loses_no_point(
    private_stack: PrivateStack,
    fault_topics: TopicSettings,
    fault_influx: InfluxSettings,
    start_fault_worker: Callable[[str], WorkerProcess],
    tmp_path: Path,
) -> None:
    worker = start_fault_worker("w0")
    fleet = FleetPublisher(private_stack.kafka, fault_topics, tmp_path / "spool")
    source = _source()
    try:
        fleet.start(iter(source[:WARM]), rounds_per_s=50.0)
        fleet.join(timeout_s=120)
        wait_for(
            lambda: len(stored_host_scores(fault_influx, "^io-")) >= WARM * len(NODES),
            120,
            "warm-up stored",
        )
        written_before = worker.metrics()["fleetwatch_sink_written_points"]
        private_stack.kill("influxdb")
        down_at = time.monotonic()
        fleet.start(iter(source[WARM:]), rounds_per_s=4.0)  # 20 s of batches during the outage
        wait_for(
            lambda: worker.metrics().get("fleetwatch_sink_buffer_points", 0) > 0, 60, "buffering"
        )
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        during = worker.metrics()
        private_stack.start("influxdb")
        fleet.join(timeout_s=120)
    finally:
        fleet.close()
    assert during["fleetwatch_sink_buffer_points"] > 0
    assert during["fleetwatch_sink_retried_points"] > 0
    assert during["fleetwatch_sink_written_points"] == written_before, "written while down?"
    assert during["fleetwatch_batches_total"] == ROUNDS * len(NODES), "processing stalled"

    want = expected_keys([b for batches in source for b in batches])
    wait_for(lambda: len(stored_host_scores(fault_influx, "^io-")) >= len(want), 120, "all stored")
    assert stored_host_scores(fault_influx, "^io-") == want
    wait_for(lambda: worker.metrics()["fleetwatch_sink_buffer_points"] == 0, 60, "empty buffer")
    after = worker.metrics()
    assert after["fleetwatch_sink_dropped_points"] == 0
    assert after["fleetwatch_sink_rejected_points"] == 0
    # Every point added reached InfluxDB exactly once: metrics rows match the batches sent.
    rows = read_rows(fault_influx, "metrics", "^io-")
    assert len(rows) == len(want) * len(source[0][0].metrics)
    anomalies = [
        r for r in read_rows(fault_influx, "anomalies", f"^{NODES[0]}$") if r["_field"] == "score"
    ]
    assert anomalies, "the anomaly flagged during the outage was not written afterwards"
    assert after["fleetwatch_anomalies_total"] >= len(anomalies)
    assert worker.alive
