"""The paced load phases of ``fleetwatch bench pipeline``: latency at a share of the capacity.

Once the backlog has measured the one worker's capacity (batches/s), each phase offers it a
share of that (50 % and 90 % by default) for ``duration_s`` from producer processes that send
pre-encoded batches on a schedule (``pipeline.bench.paced_producer``), injects faults at random
moments and times each from its ``sampled_at`` to its anomaly in InfluxDB. A producer that could
not keep the rate says so (``rate_reached``), and so does a worker that fell behind
(``lag_batches_at_end``).
"""

from __future__ import annotations

import math
import multiprocessing
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition

from pipeline.bench.paced_producer import LoadPlan, produce
from pipeline.bench.pacing import PaceReport, combined
from pipeline.bench.worker_process import WorkerProcess
from pipeline.bus import make_consumer
from pipeline.commands.stream_bench import FaultTimes, Fleet, percentile
from pipeline.config import InfluxSettings, KafkaSettings
from pipeline.errors import FleetwatchError
from pipeline.store.flux import flux_regex, flux_string, flux_time
from pipeline.store.query import run_flux

PROGRESS_EVERY_S = 5.0  # between two progress lines on stderr
POLL_S = 0.25  # between two InfluxDB queries for the faults' anomalies
CATCH_UP_TIMEOUT_S = 300.0  # longest a worker may take to drain what a phase left it
DETECT_GRACE_S = 30.0  # past the phase and two windows, for the last faults' anomalies
SEQ_STRIDE = 1_000_000  # phase k's seq starts at (k + 1) * this: past every earlier batch
TARGET_SLACK_S = 2.0  # the target: p99 ≤ window + 2 s


@dataclass(frozen=True)
class LoadOptions:
    """How the load phases run: shares of capacity, length, producer processes, faults each."""

    shares: tuple[float, ...]
    duration_s: float
    producers: int
    faults: int
    window_s: float

    def __post_init__(self) -> None:
        if self.duration_s < 3 * self.window_s:
            raise ValueError(
                f"a load phase of {self.duration_s} s is shorter than three windows "
                f"({3 * self.window_s} s): its faults would have no time to be seen"
            )


@dataclass
class LoadReading:
    """What one paced phase offered the worker, what it achieved and how late the faults were."""

    share: float
    duration_s: float
    producers: int
    target_batches_per_s: float
    achieved_batches_per_s: float
    target_points_per_s: float
    achieved_points_per_s: float
    rate_reached: bool  # False: the producers could not keep the target rate
    producer_max_behind_s: float
    producer_cores: float  # CPU the producers used, in cores (they share the machine too)
    worker_batches_per_s: float  # processed by the worker during the phase
    lag_batches_at_end: int  # published but not yet processed when the producers stopped
    lag_s_at_end: float  # that lag at the measured capacity
    faults_injected: int = 0
    faults_detected: int = 0
    p50_latency_s: float | None = None
    p99_latency_s: float | None = None
    p99_minus_window_s: float | None = None
    p99_after_window_end_s: float | None = None  # latency less the wait for the window to end
    meets_target: bool | None = None  # p99 ≤ window + TARGET_SLACK_S
    latencies_s: list[float] = field(default_factory=list)
    window_waits_s: list[float] = field(default_factory=list)


@dataclass
class LoadPhases:
    """Runs every phase of ``options`` as ``run_bench``'s ``after_live`` step; keeps readings."""

    kafka: KafkaSettings
    influx: InfluxSettings
    options: LoadOptions
    readings: dict[str, LoadReading] = field(default_factory=dict)

    def __call__(
        self, worker: WorkerProcess, fleet: Fleet, topic: str, capacity_per_s: float
    ) -> None:
        """Each share in turn, once the worker has caught up with what came before."""
        for phase, share in enumerate(self.options.shares):
            wait_caught_up(self.kafka, topic, worker)
            plans = self.plans(fleet, topic, share * capacity_per_s, phase)
            reading = run_phase(self.kafka, self.influx, self.options, worker, fleet, plans, share)
            reading.lag_s_at_end = reading.lag_batches_at_end / capacity_per_s
            self.readings[f"load_{round(share * 100)}"] = reading

    def plans(self, fleet: Fleet, topic: str, rate_per_s: float, phase: int) -> list[LoadPlan]:
        """One plan per producer: every ``producers``-th node, its share of the rate and faults."""
        options = self.options
        rng = random.Random(fleet.seed + 100 + phase)  # noqa: S311 - synthetic load
        targets = rng.sample(range(fleet.nodes), min(options.faults, fleet.nodes))
        at_s = {
            node: rng.uniform(options.window_s, options.duration_s - 2 * options.window_s)
            for node in targets
        }
        count = options.producers
        return [
            LoadPlan(
                kafka=self.kafka.model_dump(),
                topic=topic,
                node_ids=[fleet.node_id(i) for i in range(first, fleet.nodes, count)],
                metric_names=fleet.names,
                base_values=fleet.base,
                rate_per_s=rate_per_s / count,
                duration_s=options.duration_s,
                start_seq=(phase + 1) * SEQ_STRIDE,
                faults={i // count: s for i, s in at_s.items() if i % count == first},
                seed=fleet.seed + 1000 * phase + first,
            )
            for first in range(count)
        ]


def run_phase(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    options: LoadOptions,
    worker: WorkerProcess,
    fleet: Fleet,
    plans: list[LoadPlan],
    share: float,
) -> LoadReading:
    """Run the producers of ``plans`` to the end, then wait for the faults' anomalies."""
    since = datetime.now(UTC)
    processed_before = worker.batches_processed()
    seen = AnomalySeen(influx, fleet, since)
    reports, faulted_at = _run_producers(plans, worker, seen, share)
    lag = published(kafka, plans[0].topic) - worker.batches_processed()
    pace = combined(reports)
    worker_per_s = (worker.batches_processed() - processed_before) / pace.elapsed_s
    deadline = time.monotonic() + 2 * options.window_s + DETECT_GRACE_S
    while seen.missing(faulted_at, options.window_s) and time.monotonic() < deadline:
        seen.poll()
        time.sleep(POLL_S)
    reading = _reading(share, options, pace, fleet.metrics, worker_per_s, lag)
    _add_latencies(reading, seen.fault_times(faulted_at, options.window_s), options.window_s)
    return reading


def _run_producers(
    plans: list[LoadPlan], worker: WorkerProcess, seen: AnomalySeen, share: float
) -> tuple[list[PaceReport], dict[str, float]]:
    """Start one process per plan; poll InfluxDB and print progress until they all report."""
    spawn = multiprocessing.get_context("spawn")  # no threads of ours copied into the children
    results: Any = spawn.Queue()
    counters = [spawn.Value("q", 0) for _ in plans]
    children = [
        spawn.Process(target=produce, args=(plan, counter, results), daemon=True)
        for plan, counter in zip(plans, counters, strict=True)
    ]
    for child in children:
        child.start()
    reports: list[PaceReport] = []
    faulted_at: dict[str, float] = {}
    started_s, shown_s = time.monotonic(), time.monotonic()
    while len(reports) < len(plans):
        if time.monotonic() - shown_s >= PROGRESS_EVERY_S:
            shown_s = time.monotonic()
            _progress(share, shown_s - started_s, plans, counters, worker, seen)
        seen.poll()
        while not results.empty():
            report, faults = results.get()
            reports.append(report)
            faulted_at.update(faults)
        if any(not child.is_alive() for child in children) and results.empty():
            _check_children(children, len(reports))
        time.sleep(POLL_S)
    for child in children:
        child.join(timeout=10)
    return reports, faulted_at


def _check_children(children: list[Any], reported: int) -> None:
    """A producer that exited without reporting failed: say so rather than wait forever."""
    finished = sum(1 for child in children if not child.is_alive())
    if finished > reported and any(child.exitcode for child in children):
        codes = [child.exitcode for child in children]
        raise FleetwatchError(f"a load producer failed (exit codes {codes})")


def _progress(
    share: float,
    elapsed_s: float,
    plans: list[LoadPlan],
    counters: list[Any],
    worker: WorkerProcess,
    seen: AnomalySeen,
) -> None:
    """One line on stderr: time, rate offered and reached, the worker's count, faults seen."""
    sent = sum(counter.value for counter in counters)
    target = sum(plan.rate_per_s for plan in plans)
    print(
        f"load {share:.0%}: {elapsed_s:.0f}/{plans[0].duration_s:.0f} s,"
        f" sent {sent:,} ({sent / elapsed_s:,.0f}/s of {target:,.0f}),"
        f" worker {worker.batches_processed():,} batches,"
        f" anomalies seen on {len(seen.nodes())} nodes",
        file=sys.stderr,
        flush=True,
    )


class AnomalySeen:
    """When each anomaly window of the fleet's first metric since ``since`` was first seen."""

    def __init__(self, influx: InfluxSettings, fleet: Fleet, since: datetime) -> None:
        self.influx = influx
        self.flux = (
            f"from(bucket: {flux_string(influx.bucket)}) |> range(start: {flux_time(since)})"
            ' |> filter(fn: (r) => r._measurement == "anomalies" and r._field == "score"'
            f" and r.metric == {flux_string(fleet.names[0])}"
            f" and r.node =~ {flux_regex('^' + fleet.node_id(0)[:-6])})"
            ' |> keep(columns: ["node", "_time"])'
        )
        self.first_seen: dict[tuple[str, float], float] = {}  # (node, window start) → epoch s

    def poll(self) -> None:
        """Note the windows that are new since the last poll."""
        now = time.time()
        for row in run_flux(self.influx, self.flux):
            key = (str(row["node"]), row["_time"].timestamp())
            self.first_seen.setdefault(key, now)

    def nodes(self) -> set[str]:
        """Nodes with an anomaly so far."""
        return {node for node, _ in self.first_seen}

    def seen_at(self, node: str, fault_at: float, window_s: float) -> float | None:
        """When the first window of ``node`` holding or after ``fault_at`` was seen, if it was."""
        start = math.floor(fault_at / window_s) * window_s - 0.001  # points are timed in ms
        times = [t for (n, w), t in self.first_seen.items() if n == node and w >= start]
        return min(times) if times else None

    def missing(self, faulted_at: dict[str, float], window_s: float) -> bool:
        """True while a fault has no anomaly yet."""
        return any(self.seen_at(n, at, window_s) is None for n, at in faulted_at.items())

    def fault_times(self, faulted_at: dict[str, float], window_s: float) -> FaultTimes:
        """The faults and their sightings, keyed by the node's place in ``faulted_at``."""
        times = FaultTimes()
        for index, (node, at) in enumerate(sorted(faulted_at.items())):
            times.faulted_at[index] = datetime.fromtimestamp(at, UTC)
            seen_at = self.seen_at(node, at, window_s)
            if seen_at is not None:
                times.seen_at[index] = seen_at
        return times


def published(kafka: KafkaSettings, topic: str) -> int:
    """Messages on ``topic`` so far: the sum of its partitions' end offsets."""
    consumer = make_consumer(kafka)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def wait_caught_up(kafka: KafkaSettings, topic: str, worker: WorkerProcess) -> None:
    """Wait until the worker has processed every batch on ``topic``."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    while (left := published(kafka, topic) - worker.batches_processed()) > 0:
        if time.monotonic() > deadline or not worker.alive:
            raise FleetwatchError(f"the worker is {left} batches behind (log: {worker.log_path})")
        time.sleep(1.0)


def _reading(
    share: float,
    options: LoadOptions,
    pace: PaceReport,
    metrics: int,
    worker_per_s: float,
    lag: int,
) -> LoadReading:
    """The phase's rates and lag, before its latencies."""
    return LoadReading(
        share=share,
        duration_s=options.duration_s,
        producers=options.producers,
        target_batches_per_s=pace.target_per_s,
        achieved_batches_per_s=pace.achieved_per_s,
        target_points_per_s=pace.target_per_s * metrics,
        achieved_points_per_s=pace.achieved_per_s * metrics,
        rate_reached=pace.reached,
        producer_max_behind_s=pace.max_behind_s,
        producer_cores=pace.cpu_s / pace.elapsed_s,
        worker_batches_per_s=worker_per_s,
        lag_batches_at_end=lag,
        lag_s_at_end=0.0,
    )


def _add_latencies(reading: LoadReading, times: FaultTimes, window_s: float) -> None:
    """The faults' latencies and their percentiles, against the window + 2 s target."""
    reading.faults_injected = len(times.faulted_at)
    reading.faults_detected = len(times.seen_at)
    reading.latencies_s = latencies = times.latencies_s()
    reading.window_waits_s = waits = times.window_waits_s(window_s)
    if not latencies:
        return
    reading.p50_latency_s = percentile(latencies, 50)
    reading.p99_latency_s = p99 = percentile(latencies, 99)
    reading.p99_minus_window_s = p99 - window_s
    after_end = [latency - wait for latency, wait in zip(latencies, waits, strict=True)]
    reading.p99_after_window_end_s = percentile(after_end, 99)
    reading.meets_target = p99 <= window_s + TARGET_SLACK_S
