"""A burst of 10x the normal rate: the worker's backlog grows, then drains; nothing is dropped.

Normal is 60 batches/s. The burst is at least ten times that: 24,000 batches published as fast as
the agent's publisher goes. One worker outruns the agent's publisher on an idle machine, so the
worker is also frozen (SIGSTOP) for the first seconds of the burst, as a long pause or a starved
CPU would freeze it: the backlog grows on any machine, then must drain, and nothing may be lost.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.bench.worker_process import WorkerProcess
from pipeline.config import InfluxSettings, TopicSettings
from pipeline.models import MetricBatch
from tests.faults.conftest import PrivateStack
from tests.faults.fleet import FleetPublisher, expected_keys, rounds, stored_host_scores
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(360)]
NODES = [f"bu-{i:02d}" for i in range(60)]
NORMAL_ROUNDS_PER_S, BURST_FACTOR = 1.0, 10
NORMAL_S, BURST_S = 10, 40
# Shorter than the group session (10 s): the worker keeps its partitions through the freeze.
FREEZE_S = 5.0
PHASES = [  # (name, rounds, rounds per second)
    ("before", NORMAL_S, NORMAL_ROUNDS_PER_S),
    ("burst", BURST_S * BURST_FACTOR, float("inf")),  # unpaced: >= 10x, whatever the machine
    ("after", NORMAL_S * 2, NORMAL_ROUNDS_PER_S),
]


class PacedSource:
    """Rounds at a rate that changes by phase; remembers which phase each round belongs to."""

    def __init__(self) -> None:
        self.phase = "before"
        self.sent: list[MetricBatch] = []

    def __iter__(self) -> Iterator[list[MetricBatch]]:
        start = 0
        for name, count, per_s in PHASES:
            self.phase = name
            began = time.monotonic()
            for index, batches in enumerate(rounds(NODES, start, start + count)):
                self.sent.extend(batches)
                yield batches
                time.sleep(max(0.0, began + (index + 1) / per_s - time.monotonic()))
            start += count
        self.phase = "done"


def test_burst_of_ten_times_the_rate_drains_without_loss(
    private_stack: PrivateStack,
    fault_topics: TopicSettings,
    fault_influx: InfluxSettings,
    start_fault_worker: Callable[[str], WorkerProcess],
    tmp_path: Path,
) -> None:
    worker = start_fault_worker("w0")
    fleet = FleetPublisher(private_stack.kafka, fault_topics, tmp_path / "spool")
    source = PacedSource()
    backlog: dict[str, list[int]] = {name: [] for name, _, _ in PHASES} | {"done": []}
    stop = threading.Event()
    fleet.start(iter(source), rounds_per_s=0)  # the source paces itself
    frozen = False
    try:
        while not stop.wait(1.0):
            if source.phase == "burst" and not frozen:
                frozen = True
                _freeze(worker, FREEZE_S)
            metrics = worker.metrics()
            handled = metrics.get("fleetwatch_batches_total", 0) + metrics.get(
                "fleetwatch_dead_letters_total", 0
            )
            backlog[source.phase].append(int(fleet.publisher.delivered - handled))
            if source.phase == "done" and (backlog["done"][-1] <= 0 or len(backlog["done"]) > 120):
                break
        fleet.join(timeout_s=60)
    finally:
        fleet.close()
    normal_max = max(backlog["before"])
    burst_max = max(backlog["burst"] + backlog["after"][:5])
    assert burst_max > normal_max + len(NODES), f"lag did not grow: {backlog}"
    assert backlog["done"][-1] <= 0, f"lag did not drain: {backlog['done'][-10:]}"

    want = expected_keys(source.sent)
    wait_for(lambda: len(stored_host_scores(fault_influx, "^bu-")) >= len(want), 120, "stored")
    assert stored_host_scores(fault_influx, "^bu-") == want
    metrics = worker.metrics()
    assert metrics["fleetwatch_batches_total"] == len(want)
    assert metrics["fleetwatch_dead_letters_total"] == 0
    assert metrics["fleetwatch_sink_dropped_points"] == 0
    assert fleet.publisher.spool.dropped == 0
    print(f"backlog: normal max {normal_max}, burst max {burst_max}, {backlog}")


def _freeze(worker: WorkerProcess, seconds: float) -> None:
    """Stop the worker process for ``seconds`` (it keeps its sockets and state), then resume it."""
    assert worker.process is not None
    os.kill(worker.process.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(worker.process.pid, signal.SIGCONT)
