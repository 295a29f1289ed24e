"""A producer process that offers the worker batches at a fixed rate, with faults at set moments.

Each node's batches are encoded once (a few noisy variants per node, cycled) and re-sent with a
new ``sampled_at`` (the moment of sending, as an agent stamps it), ``batch_id`` and ``seq``:
about 2 µs per batch instead of a full encode, so one process keeps thousands of batches/s.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer

from pipeline.bench.batch_template import BatchIds, BatchTemplate, at_text
from pipeline.bench.pacing import Pace, PaceReport
from pipeline.bus import make_producer
from pipeline.config import KafkaSettings
from pipeline.models import MetricBatch

VARIANTS = 8  # noisy copies of each node's batch, cycled: the detectors see variance
FLUSH_TIMEOUT_S = 60.0
MAX_SLEEP_S = 0.05  # a producer checks its schedule at least this often


@dataclass(frozen=True)
class LoadPlan:
    """What one producer process sends: its nodes, rate, duration and faults.

    ``kafka`` is ``KafkaSettings.model_dump()``: settings read from a file do not pickle, and a
    plan travels to a spawned process. ``faults`` maps a node (by its place in ``node_ids``) to
    the second of the phase at which its next batch carries the fault: the first metric far
    outside its band.
    """

    kafka: dict[str, Any]
    topic: str
    node_ids: list[str]
    metric_names: list[str]
    base_values: list[float]
    rate_per_s: float
    duration_s: float
    start_seq: int
    faults: dict[int, float] = field(default_factory=dict)
    seed: int = 11

    def templates(self) -> list[list[BatchTemplate]]:
        """``VARIANTS`` templates per node, values around each metric's base level."""
        rng = random.Random(self.seed)  # noqa: S311 - synthetic load
        return [
            [self._template(node_id, rng, fault=False) for _ in range(VARIANTS)]
            for node_id in self.node_ids
        ]

    def fault_template(self, index: int) -> BatchTemplate:
        """Node ``index``'s batch with its fault."""
        return self._template(self.node_ids[index], random.Random(self.seed), fault=True)  # noqa: S311

    def _template(self, node_id: str, rng: random.Random, fault: bool) -> BatchTemplate:
        values = {
            name: base + rng.gauss(0, 1.0)
            for name, base in zip(self.metric_names, self.base_values, strict=True)
        }
        if fault:
            values[self.metric_names[0]] = self.base_values[0] * 10 + 500
        at = datetime.now(UTC)
        return BatchTemplate.of(MetricBatch(node_id=node_id, sampled_at=at, metrics=values))


class PacedSender:
    """Sends ``plan``'s batches on schedule; notes each fault's ``sampled_at`` as it goes."""

    def __init__(self, plan: LoadPlan, producer: KafkaProducer) -> None:
        self.plan = plan
        self.producer = producer
        self.templates = plan.templates()
        self.keys = [node_id.encode() for node_id in plan.node_ids]
        self.pending = dict(plan.faults)  # node index → phase second, until sent
        self.faulted_at: dict[str, float] = {}  # node → epoch seconds of its fault
        self.ids = BatchIds()
        self.sent = 0

    def send_one(self, phase_s: float) -> None:
        """The next batch in round-robin order over the nodes."""
        nodes = len(self.keys)
        index, round_index = self.sent % nodes, self.sent // nodes
        template = self.templates[index][round_index % VARIANTS]
        now_s = time.time()
        if self.pending.get(index, float("inf")) <= phase_s:
            del self.pending[index]
            template = self.plan.fault_template(index)
            self.faulted_at[self.plan.node_ids[index]] = now_s
        seq = self.plan.start_seq + round_index
        value = template.render(at_text(now_s), self.ids.next(), seq)
        self.producer.send(self.plan.topic, key=self.keys[index], value=value)
        self.sent += 1

    def run(self, progress: Any = None) -> PaceReport:
        """Send for ``duration_s``; ``progress`` (a shared int, e.g. ``multiprocessing.Value``)."""
        pace = Pace(self.plan.rate_per_s, time.monotonic())
        cpu_started_s = time.process_time()
        max_behind_s = 0.0
        while (now_s := time.monotonic()) - pace.started_s < self.plan.duration_s:
            max_behind_s = max(max_behind_s, pace.behind_s(self.sent, now_s))
            for _ in range(pace.due(now_s) - self.sent):
                self.send_one(now_s - pace.started_s)
            if progress is not None:
                progress.value = self.sent
            time.sleep(min(MAX_SLEEP_S, pace.wait_s(self.sent, time.monotonic())))
        elapsed_s = time.monotonic() - pace.started_s
        self.producer.flush(timeout=FLUSH_TIMEOUT_S)
        cpu_s = time.process_time() - cpu_started_s
        return PaceReport(self.plan.rate_per_s, self.sent, elapsed_s, max_behind_s, cpu_s)


def produce(plan: LoadPlan, progress: Any, results: Any) -> None:
    """Process entry point: send ``plan``, put ``(PaceReport, faulted_at)`` on ``results``."""
    producer = make_producer(
        KafkaSettings.model_validate(plan.kafka), linger_ms=5, batch_size=512 * 1024, acks=1
    )
    try:
        sender = PacedSender(plan, producer)
        report = sender.run(progress)
        results.put((report, sender.faulted_at))
    finally:
        producer.close()
