"""``fleetwatch bench pipeline``: end-to-end throughput and latency of workers on real Kafka.

Phase 1 publishes a backlog (``rounds`` batches per node, sample times in the past) and times a
raw aiokafka consume of it (Faust's own client), a Faust agent that only acknowledges (the
stream layer's ceiling), then a real ``fleetwatch worker`` process through it, read from its
``/metrics``. Phase 2 sends live batches (sample time = now) with
faults injected at random moments and measures sampled_at → anomaly visible in InfluxDB.
With ``workers`` > 1, a group of that many workers drains the same backlog first, timed.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer

from pipeline import topics
from pipeline.bench.worker_group import POLL_S, GroupReading, time_group
from pipeline.bench.worker_process import WorkerProcess
from pipeline.bus import ensure_topics, make_producer
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.errors import FleetwatchError
from pipeline.models import MetricBatch, encode
from pipeline.store.flux import flux_regex, flux_string
from pipeline.store.query import run_flux

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

SAMPLE_STEP_S = 10.0  # spacing of backlog samples
LIVE_STEP_S = 1.0  # spacing of live samples
PUBLISH_TIMEOUT_S = 300  # longest the backlog may take to be delivered
# How long past the last fault's window the live phase keeps looking: generous, since the
# loop ends as soon as every fault is seen, and a loaded machine delays the worker.
LIVE_GRACE_S = 60.0


@dataclass(frozen=True)
class Timed:
    """What one timed consumer read: ``read`` messages in all, ``timed`` of them in ``elapsed_s``.

    The clock starts at the first message seen, so the first chunk is read but not timed.

    Examples
    --------
    >>> Timed(read=300, timed=200, elapsed_s=0.5).per_s
    400.0
    """

    read: int
    timed: int
    elapsed_s: float

    @property
    def per_s(self) -> float:
        """Messages per second of the timed part."""
        return self.timed / self.elapsed_s


@dataclass
class BenchResult:
    """Every figure the benchmark prints."""

    nodes: int
    metrics: int
    batches: int
    points: int
    window_s: float
    produce_points_per_s: float = 0.0
    worker_points: int = 0  # processed by the worker: all of ``points``, none twice
    worker_dead_letters: int = 0
    raw_consume_points_per_s: float = 0.0
    stream_ceiling_points_per_s: float = 0.0
    points_per_s: float = 0.0  # of all ``workers`` together
    workers: int = 1
    one_worker_points_per_s: float = 0.0
    scaling: float = 1.0  # points_per_s over one_worker_points_per_s
    # Batches the group processed beyond the backlog (re-read after a rebalance) or short of it.
    group_expected: int = 0  # batches the group was timed on: the backlog
    group_processed_twice: int = 0
    group_lost: int = 0
    # Backlog messages whose offsets the group had not committed once it stopped: 0 = every
    # message acknowledged, i.e. processed and its node's models saved (or dead-lettered).
    group_unacknowledged: int = 0
    # One more worker joins the group, then leaves: seconds until every member is ready again.
    rebalance_join_s: float | None = None
    rebalance_leave_s: float | None = None
    ratio_to_raw_consume: float = 0.0
    ratio_to_stream_ceiling: float = 0.0
    faults_injected: int = 0
    faults_detected: int = 0
    p50_latency_s: float | None = None
    p99_latency_s: float | None = None
    latencies_s: list[float] = field(default_factory=list, repr=False)
    # Per detected fault, sampled_at → end of its window: no anomaly can be visible sooner.
    window_waits_s: list[float] = field(default_factory=list, repr=False)
    # What each timed phase read (raw_consume, stream_ceiling, worker), behind its rate.
    readings: dict[str, Timed] = field(default_factory=dict, repr=False)


@dataclass
class Fleet:
    """Synthetic nodes: stable per-metric baselines plus seeded noise."""

    nodes: int
    metrics: int
    seed: int = 7
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - synthetic load, not secrets
        self.names = [f"bench.m{i:04d}" for i in range(self.metrics)]
        self.base = [self.rng.uniform(10, 90) for _ in range(self.metrics)]

    def node_id(self, index: int) -> str:
        """Node names are unique per run so runs never share state."""
        return f"bench-{self.run_id}-{index:06d}"

    def batch(self, index: int, at: datetime, seq: int, fault: bool = False) -> bytes:
        """One encoded batch; a fault pushes the first metric far outside its band."""
        values = {n: b + self.rng.gauss(0, 1.0) for n, b in zip(self.names, self.base, strict=True)}
        if fault:
            values[self.names[0]] = self.base[0] * 10 + 500
        batch = MetricBatch(node_id=self.node_id(index), sampled_at=at, metrics=values, seq=seq)
        return encode(batch)


def publish_backlog(
    kafka: KafkaSettings, topic: str, fleet: Fleet, rounds: int, end_at: datetime
) -> float:
    """Send ``rounds`` batches per node ending at ``end_at``; returns points/s of producing."""
    # A loaded machine times requests out: retry until the delivery deadline rather than let
    # five retries run out and leave the backlog short (every later phase would wait for it).
    producer = make_producer(
        kafka,
        linger_ms=50,
        batch_size=512 * 1024,
        acks=1,
        retries=2**31 - 1,
        delivery_timeout_ms=PUBLISH_TIMEOUT_S * 1000,
    )
    started = time.perf_counter()
    futures = []
    for seq in range(rounds):
        at = end_at - timedelta(seconds=SAMPLE_STEP_S * (rounds - seq))
        for index in range(fleet.nodes):
            value = fleet.batch(index, at, seq)
            futures.append(producer.send(topic, key=fleet.node_id(index).encode(), value=value))
    producer.flush(timeout=PUBLISH_TIMEOUT_S + 5)
    producer.close()
    failed = sum(1 for future in futures if not future.succeeded())
    if failed:
        raise FleetwatchError(f"{failed} of {len(futures)} backlog batches were not delivered")
    elapsed = time.perf_counter() - started
    return rounds * fleet.nodes * fleet.metrics / elapsed


def raw_consume(kafka: KafkaSettings, topic: str, expected: int, timeout_s: float) -> Timed:
    """Consume ``expected`` messages with aiokafka, doing nothing with them, timed."""

    async def consume() -> Timed:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka.bootstrap,
            group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            seen, first_chunk, first_at = 0, 0, 0.0
            deadline = time.monotonic() + timeout_s
            while seen < expected and time.monotonic() < deadline:
                chunk = await consumer.getmany(timeout_ms=500, max_records=5000)
                got = sum(len(messages) for messages in chunk.values())
                if got and not first_at:
                    first_at, first_chunk = time.perf_counter(), got
                seen += got
            if seen < expected:
                raise FleetwatchError(f"raw consume read {seen} of {expected} messages")
            return _timed(seen, first_chunk, first_at)
        finally:
            await consumer.stop()

    return asyncio.run(consume())


def _timed(read: int, first_chunk: int, first_at: float) -> Timed:
    """The reading from the first chunk (``first_at``) to now."""
    elapsed_s = time.perf_counter() - first_at
    if read <= first_chunk or elapsed_s <= 0:
        raise FleetwatchError("backlog too small to time: raise --rounds")
    return Timed(read, read - first_chunk, elapsed_s)


def time_worker(worker: WorkerProcess, expected: int, timeout_s: float) -> Timed:
    """The worker's batches from its first processed batch to the last of ``expected``."""
    deadline = time.monotonic() + timeout_s
    first_at, first_count, count = 0.0, 0, 0
    while time.monotonic() < deadline and worker.alive:
        count = worker.batches_processed()
        if count > 0 and not first_at:
            first_at, first_count = time.perf_counter(), count
        if count >= expected:
            return _timed(count, first_count, first_at)
        time.sleep(POLL_S)  # each scrape costs the worker a web request: not too often
    raise FleetwatchError(
        f"worker processed {count:.0f} of {expected} batches (log: {worker.log_path})"
    )


def stream_ceiling(
    kafka: KafkaSettings, influx: InfluxSettings, topic_settings: TopicSettings, expected: int
) -> Timed:
    """A Faust agent that only acknowledges (``pipeline.bench.faust_ceiling``), timed."""
    with tempfile.TemporaryDirectory(prefix="fleetwatch-ceiling-") as scratch:
        result = Path(scratch) / "result.json"
        probe = WorkerProcess.in_directory(
            Path(scratch),
            "ceiling",
            kafka,
            influx,
            topic_settings,
            module=("pipeline.bench.faust_ceiling", str(expected), str(result)),
        )
        probe.start()
        try:
            deadline = time.monotonic() + 600
            while not result.exists():
                if not probe.alive or time.monotonic() > deadline:
                    log = probe.log_path.read_text(errors="replace")[-2000:]
                    raise FleetwatchError(f"the Faust ceiling probe did not finish: {log}")
                time.sleep(0.2)
            reading = json.loads(result.read_text())
            return Timed(int(reading["read"]), int(reading["timed"]), float(reading["elapsed_s"]))
        finally:
            probe.stop()


@dataclass
class FaultTimes:
    """When each injected fault was sampled (by node index) and first seen in InfluxDB."""

    faulted_at: dict[int, datetime] = field(default_factory=dict)
    seen_at: dict[int, float] = field(default_factory=dict)

    def latencies_s(self) -> list[float]:
        """sampled_at → visible, per fault seen."""
        return [self.seen_at[i] - self.faulted_at[i].timestamp() for i in sorted(self.seen_at)]

    def window_waits_s(self, window_s: float) -> list[float]:
        """sampled_at → end of the fault's window, per fault seen (the least latency possible)."""
        return [
            (math.floor(at / window_s) + 1) * window_s - at
            for at in (self.faulted_at[i].timestamp() for i in sorted(self.seen_at))
        ]


def live_latencies(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic: str,
    fleet: Fleet,
    start_seq: int,
    window_s: float,
    faults: int,
) -> FaultTimes:
    """Send live rounds, inject ``faults`` on distinct nodes, time each to InfluxDB."""
    producer = make_producer(kafka, linger_ms=5, acks=1)
    rng = random.Random(fleet.seed + 1)  # noqa: S311 - synthetic load
    live_s = 2 * window_s
    targets = rng.sample(range(fleet.nodes), min(faults, fleet.nodes))
    fault_round = {node: rng.randrange(int(live_s / LIVE_STEP_S)) for node in targets}
    times = FaultTimes()
    faulted_at, seen_at = times.faulted_at, times.seen_at
    started = time.monotonic()
    seq = start_seq
    while time.monotonic() - started < live_s + window_s + LIVE_GRACE_S and len(seen_at) < len(
        targets
    ):
        round_index = seq - start_seq
        at = datetime.now(UTC)
        for index in range(fleet.nodes):
            fault = fault_round.get(index) == round_index
            if fault:
                faulted_at[index] = at
            producer.send(
                topic, key=fleet.node_id(index).encode(), value=fleet.batch(index, at, seq, fault)
            )
        producer.flush(timeout=30)
        seq += 1
        _poll_anomalies(influx, fleet, faulted_at, seen_at, until=time.monotonic() + LIVE_STEP_S)
    producer.close()
    return times


def _poll_anomalies(
    influx: InfluxSettings,
    fleet: Fleet,
    faulted_at: dict[int, datetime],
    seen_at: dict[int, float],
    until: float,
) -> None:
    """Note when each injected fault's node first has an anomaly point, until ``until``."""
    flux = (
        f"from(bucket: {flux_string(influx.bucket)}) |> range(start: -1d)"
        ' |> filter(fn: (r) => r._measurement == "anomalies" and r._field == "score"'
        f" and r.metric == {flux_string(fleet.names[0])}"
        f" and r.node =~ {flux_regex('^' + fleet.node_id(0)[:-6])})"
        ' |> keep(columns: ["node"]) |> distinct(column: "node")'
    )
    by_node = {fleet.node_id(i): i for i in faulted_at}
    while time.monotonic() < until and any(i not in seen_at for i in faulted_at):
        now = time.time()
        for row in run_flux(influx, flux):
            index = by_node.get(str(row.get("_value")))
            if index is not None and index not in seen_at:
                seen_at[index] = now
        time.sleep(0.2)
    time.sleep(max(0.0, until - time.monotonic()))


def json_figures(reading: DataclassInstance) -> dict[str, Any]:
    """A bench reading (the run's, or a load phase's) for ``--json``, latencies to the ms."""
    figures = asdict(reading)
    for key in ("latencies_s", "window_waits_s"):
        figures[key] = [round(x, 3) for x in figures[key]]
    return figures


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100).

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 99)
    (2.0, 4.0)
    """
    ranked = sorted(values)
    rank = max(1, -(-len(ranked) * q // 100))
    return ranked[int(rank) - 1]


def topic_for(topic_settings: TopicSettings, kafka: KafkaSettings) -> str:
    """Create this run's topics and return the metrics topic name."""
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    return topics.METRICS.name(topic_settings.prefix)


# What runs after the live phase: (the worker, the fleet, the metrics topic, its batches/s).
AfterLive = Callable[[WorkerProcess, Fleet, str, float], None]


def run_bench(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    nodes: int,
    metrics: int,
    rounds: int,
    window_s: float,
    faults: int,
    partitions: int,
    workers: int = 1,
    after_live: AfterLive | None = None,
) -> BenchResult:
    """Run both phases against the servers in ``kafka``/``influx``; returns every figure.

    ``after_live`` runs once the live phase ends, with the one worker still up (the paced load
    phases of ``pipeline.commands.stream_load``).
    """
    topic_settings = TopicSettings(prefix=f"bench{uuid.uuid4().hex[:8]}.", partitions=partitions)
    topic = topic_for(topic_settings, kafka)
    fleet = Fleet(nodes, metrics)
    batches = nodes * rounds
    result = BenchResult(nodes, metrics, batches, batches * metrics, window_s)
    end_at = datetime.now(UTC) - timedelta(seconds=LIVE_STEP_S)
    result.produce_points_per_s = publish_backlog(kafka, topic, fleet, rounds, end_at)
    raw = result.readings["raw_consume"] = raw_consume(kafka, topic, batches, 600)
    result.raw_consume_points_per_s = metrics * raw.per_s
    ceiling = stream_ceiling(kafka, influx, topic_settings, batches)
    result.readings["stream_ceiling"] = ceiling
    result.stream_ceiling_points_per_s = metrics * ceiling.per_s
    # Before the one worker's live phase adds to the topic: the group drains the backlog alone.
    group = (
        time_group(kafka, influx, topic_settings, workers, batches, _bench_env(window_s))
        if workers > 1
        else None
    )
    with tempfile.TemporaryDirectory(prefix="fleetwatch-bench-") as scratch:
        worker = WorkerProcess.in_directory(
            Path(scratch),
            "bench",
            kafka,
            influx,
            topic_settings,
            extra_env=_bench_env(window_s),
        )
        worker.start()
        try:
            timed = result.readings["worker"] = time_worker(worker, batches, 900)
            result.points_per_s = metrics * timed.per_s
            _count_worker(result, worker.metrics())
            faults_seen = live_latencies(kafka, influx, topic, fleet, rounds, window_s, faults)
            if after_live is not None:
                after_live(worker, fleet, topic, timed.per_s)
        finally:
            worker.stop(timeout_s=60)
    result.one_worker_points_per_s = result.points_per_s
    result.ratio_to_raw_consume = result.points_per_s / result.raw_consume_points_per_s
    result.ratio_to_stream_ceiling = result.points_per_s / result.stream_ceiling_points_per_s
    if group is not None:
        _add_group(result, group)
    result.faults_injected = len(faults_seen.faulted_at)
    result.faults_detected = len(faults_seen.seen_at)
    result.latencies_s = latencies = faults_seen.latencies_s()
    result.window_waits_s = faults_seen.window_waits_s(window_s)
    if latencies:
        result.p50_latency_s = percentile(latencies, 50)
        result.p99_latency_s = percentile(latencies, 99)
    return result


def _add_group(result: BenchResult, group: GroupReading) -> None:
    """The group's aggregate rate becomes ``points_per_s``; the one worker's is kept beside it."""
    result.readings["group"] = Timed(group.batches, group.timed, group.elapsed_s)
    result.workers = group.workers
    result.points_per_s = result.metrics * group.per_s
    result.scaling = result.points_per_s / result.one_worker_points_per_s
    result.group_expected = group.expected
    result.group_processed_twice = max(0, group.batches - group.expected)
    result.group_lost = max(0, group.expected - group.batches)
    result.group_unacknowledged = group.unacknowledged
    result.rebalance_join_s = group.rebalance_join_s
    result.rebalance_leave_s = group.rebalance_leave_s


def _bench_env(window_s: float) -> dict[str, str]:
    """Worker settings of every timed worker: the window, and anomalies only (what is timed)."""
    return {
        StreamSettings.env_name("window_s"): str(window_s),
        StreamSettings.env_name("write_detail"): "false",
    }


def _count_worker(result: BenchResult, meters: dict[str, float]) -> None:
    """The worker's own counts once the backlog is in: points processed, dead letters."""
    result.worker_points = int(meters.get("fleetwatch_points_total", 0.0))
    result.worker_dead_letters = int(meters.get("fleetwatch_dead_letters_total", 0.0))
