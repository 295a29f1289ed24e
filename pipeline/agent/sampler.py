"""One sampling round: run every collector, add the agent's own figures, build a MetricBatch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from pipeline.agent.collectors.base import Collector
from pipeline.models import MAX_METRICS_PER_BATCH, MetricBatch, utc_now

log = logging.getLogger(__name__)


class Sampler:
    """Builds one MetricBatch per call from the node's collectors.

    Parameters
    ----------
    collectors
        Run in order; one that raises is skipped for that round (and logged once).
    node_id
        Key of the batches.
    labels
        Static labels attached to every batch (role, zone, rack, ...).
    first_seq
        ``seq`` of the first batch; the agent continues where its spool left off.
    monotonic, wall_clock
        Time sources; tests pass fakes.
    """

    def __init__(
        self,
        collectors: Sequence[Collector],
        node_id: str,
        labels: Mapping[str, str] | None = None,
        first_seq: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if first_seq < 0:
            raise ValueError(f"first_seq must be >= 0, got {first_seq}")
        self.collectors = list(collectors)
        self.node_id = node_id
        self.labels = dict(labels or {})
        self.seq = first_seq
        self.monotonic = monotonic
        self.wall_clock = wall_clock
        self._broken: set[str] = set()

    def prime(self) -> None:
        """Read every counter once so the first batch already carries rates."""
        now_s = self.monotonic()
        for collector in self.collectors:
            self._collect_one(collector, now_s)

    def sample_one(self, extra: Mapping[str, float] | None = None) -> MetricBatch:
        """Collect every subsystem now; ``extra`` adds the agent's own metrics."""
        sampled_at = self.wall_clock()
        now_s = self.monotonic()
        metrics: dict[str, float] = {}
        for collector in self.collectors:
            metrics |= self._collect_one(collector, now_s)
        metrics |= dict(extra or {})
        if len(metrics) > MAX_METRICS_PER_BATCH:  # the model's bound; keep the first ones
            metrics = dict(list(metrics.items())[:MAX_METRICS_PER_BATCH])
        batch = MetricBatch(
            node_id=self.node_id,
            sampled_at=sampled_at,
            labels=self.labels,
            metrics=metrics,
            seq=self.seq,
        )
        self.seq += 1
        return batch

    def _collect_one(self, collector: Collector, now_s: float) -> dict[str, float]:
        try:
            values = collector.collect(now_s)
        except Exception:  # a broken collector must not cost the node its other metrics
            if collector.name not in self._broken:
                self._broken.add(collector.name)
                log.exception("collector %s failed; skipped while it fails", collector.name)
            return {}
        self._broken.discard(collector.name)
        # NaN/inf cannot go on the wire (the model refuses them); a gap is the honest value.
        return {k: v for k, v in values.items() if v == v and abs(v) != float("inf")}
