"""``fleetwatch bench soak``: a simulated fleet at half the worker's measured maximum for N minutes.

1. Calibrate: a backlog of whole fleet rounds is published before the worker starts; the worker's
   maximum rate is how fast it then works the backlog off (its models warm up meanwhile).
2. Soak: the same fleet, continuing in simulated time, is published at ``rate_fraction`` of that
   maximum while the worker's RSS, its consumer lag and the counted backlog are sampled.
3. Verdict (``trend.judge``) over the second half: RSS slope below a bound, lag below a bound.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline import topics
from pipeline.agent.publisher import Publisher
from pipeline.agent.spool import MemorySpool
from pipeline.bench.trend import SoakSample, Verdict, judge
from pipeline.bench.worker_process import WorkerProcess
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.errors import FleetwatchError
from pipeline.models import MetricBatch
from pipeline.sim.fleet import Scenario, SimulatedFleet
from pipeline.sim.runner import publish_rounds

SPOOL_BYTES = 256 * 1024 * 1024
INTERVAL_S = 10.0  # simulated seconds between a node's samples
START_DEADLINE_S = 180.0


@dataclass(frozen=True)
class SoakOptions:
    """What to run; see ``fleetwatch bench soak --help``."""

    minutes: float
    nodes: int = 200
    rate_fraction: float = 0.5
    calibrate_rounds: int = 100
    sample_s: float = 10.0
    max_rss_slope_mib_per_min: float = 1.0
    lag_bound_s: float = 30.0  # lag bound in seconds of input at the soak rate


@dataclass(frozen=True)
class SoakReport:
    """Figures and verdict of one soak."""

    max_rate_batches_per_s: float
    rate_batches_per_s: float
    nodes: int
    minutes: float
    published: int
    processed: int
    dead_letters: int
    sink_written_points: int
    sink_dropped_points: int
    samples: list[SoakSample]
    verdict: Verdict

    def as_dict(self) -> dict[str, Any]:
        """Plain values for ``--json`` (samples as a list of dicts)."""
        return asdict(self) | {"verdict": self.verdict.as_dict()}


def run_soak(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    options: SoakOptions,
    on_sample: Callable[[SoakSample], None] | None = None,
) -> SoakReport:
    """Calibrate, soak, judge; the worker runs on topics of this run only.

    Raises
    ------
    FleetwatchError
        When the worker does not start or dies during the run.
    """
    topic_settings = TopicSettings(prefix=f"soak{uuid.uuid4().hex[:8]}.", partitions=8)
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    fleet = SimulatedFleet(_scenario(options))
    publisher = Publisher(
        kafka, topics.METRICS.name(topic_settings.prefix), MemorySpool(SPOOL_BYTES)
    )
    with tempfile.TemporaryDirectory(prefix="fleetwatch-soak-") as tmp:
        worker = WorkerProcess(
            kafka,
            influx,
            topic_settings,
            f"soak-{uuid.uuid4().hex[:8]}",
            Path(tmp),
            Path(tmp) / "log",
        )
        try:
            max_rate = _calibrate(fleet, publisher, worker, options.calibrate_rounds)
            rate = max_rate * options.rate_fraction
            samples = _soak(fleet, publisher, worker, options, rate, on_sample)
            final = worker.metrics()
        finally:
            worker.stop()
            publisher.close(timeout_s=0)
    verdict = judge(samples, options.max_rss_slope_mib_per_min, int(rate * options.lag_bound_s))
    return SoakReport(
        max_rate_batches_per_s=round(max_rate, 1),
        rate_batches_per_s=round(rate, 1),
        nodes=options.nodes,
        minutes=options.minutes,
        published=publisher.delivered,
        processed=int(final.get("fleetwatch_batches_total", 0)),
        dead_letters=int(final.get("fleetwatch_dead_letters_total", 0)),
        sink_written_points=int(final.get("fleetwatch_sink_written_points", 0)),
        sink_dropped_points=int(final.get("fleetwatch_sink_dropped_points", 0)),
        samples=samples,
        verdict=verdict,
    )


def _scenario(options: SoakOptions) -> Scenario:
    """A fleet with every fault kind, long enough in simulated time for any soak rate."""
    span_rounds = options.calibrate_rounds + int(options.minutes * 60 * 100) + 10
    return Scenario(
        nodes=options.nodes,
        faults=("cpu_runaway", "memory_leak", "disk_filling", "network_loss"),
        interval_s=INTERVAL_S,
        duration_s=span_rounds * INTERVAL_S,
        warmup_s=options.calibrate_rounds * INTERVAL_S,
        fault_duration_s=600.0,
        seed=11,
        node_prefix="soak",
    )


def _rounds(fleet: SimulatedFleet, start: int) -> Iterator[list[MetricBatch]]:
    for index in range(start, fleet.rounds):
        yield fleet.batches(index)


def _calibrate(
    fleet: SimulatedFleet, publisher: Publisher, worker: WorkerProcess, rounds: int
) -> float:
    """Publish ``rounds`` rounds, start the worker, time how fast it works them off."""
    source = (fleet.batches(i) for i in range(rounds))
    report = publish_rounds(source, publisher, speed=0, interval_s=INTERVAL_S)
    if report.spooled:
        raise FleetwatchError(f"{report.spooled} calibration batches not acknowledged by Kafka")
    backlog = report.batches
    worker.start()
    deadline = time.monotonic() + START_DEADLINE_S
    first: tuple[float, float] | None = None
    while (done := _processed(worker)) < backlog:
        now = time.monotonic()
        if not worker.alive:
            raise FleetwatchError(f"the worker died during calibration (log: {worker.log_path})")
        if first is None and done > 0:
            first = (now, done)
            deadline = now + START_DEADLINE_S + backlog / 50  # at least 50 batches/s expected
        if now > deadline:
            raise FleetwatchError(f"the worker processed {done:.0f} of {backlog} batches in time")
        time.sleep(0.5)
    if first is None:
        raise FleetwatchError("the worker processed the whole backlog before the first reading")
    return (done - first[1]) / max(time.monotonic() - first[0], 1e-3)


def _processed(worker: WorkerProcess) -> float:
    metrics = worker.metrics()
    return metrics.get("fleetwatch_batches_total", 0.0) + metrics.get(
        "fleetwatch_dead_letters_total", 0.0
    )


def _soak(
    fleet: SimulatedFleet,
    publisher: Publisher,
    worker: WorkerProcess,
    options: SoakOptions,
    rate: float,
    on_sample: Callable[[SoakSample], None] | None,
) -> list[SoakSample]:
    """Publish at ``rate`` from a thread; sample the worker every ``sample_s`` until time is up."""
    stop = threading.Event()
    speed = rate * INTERVAL_S / options.nodes
    source = _rounds(fleet, options.calibrate_rounds)
    publishing = threading.Thread(
        target=publish_rounds,
        args=(source, publisher, speed, INTERVAL_S, stop),
        name="soak-publisher",
        daemon=True,
    )
    started = time.monotonic()
    publishing.start()
    samples: list[SoakSample] = []
    try:
        while not stop.wait(options.sample_s):
            if not worker.alive:
                raise FleetwatchError(f"the worker died during the soak (log: {worker.log_path})")
            sample = _sample(worker, publisher, time.monotonic() - started)
            samples.append(sample)
            if on_sample is not None:
                on_sample(sample)
            if sample.elapsed_s >= options.minutes * 60:
                break
    finally:
        stop.set()
        publishing.join(timeout=60)
    return samples


def _sample(worker: WorkerProcess, publisher: Publisher, elapsed_s: float) -> SoakSample:
    """Counts are since the start of calibration; lag and backlog are now."""
    metrics = worker.metrics()
    processed = int(metrics.get("fleetwatch_batches_total", 0))
    handled = processed + int(metrics.get("fleetwatch_dead_letters_total", 0))
    return SoakSample(
        elapsed_s=round(elapsed_s, 1),
        rss_bytes=worker.rss_bytes(),
        lag_messages=int(metrics.get("fleetwatch_consumer_lag_messages", 0)),
        backlog_batches=max(publisher.delivered - handled, 0),
        processed_batches=processed,
        published_batches=publisher.delivered,
        sink_buffer_points=int(metrics.get("fleetwatch_sink_buffer_points", 0)),
    )
