"""Deterministic node workloads for the stream tests: steady metrics, then an injected fault."""

from __future__ import annotations

import math
from datetime import timedelta

from pipeline.models import MetricBatch
from tests.conftest import BASE_TIME

STEP_S = 10


def batch_at(node_id: str, seq: int, fault: float | None = None) -> MetricBatch:
    """Batch ``seq`` of a node (every STEP_S seconds); ``fault`` overrides cpu.usage_user."""
    wobble = math.sin(seq / 7.0)
    metrics = {
        "cpu.usage_user": 20.0 + 3.0 * wobble if fault is None else fault,
        "mem.used_percent": 41.0 + 0.5 * math.cos(seq / 5.0),
        "load.load1": 0.8 + 0.1 * wobble,
    }
    return MetricBatch(
        node_id=node_id,
        sampled_at=BASE_TIME + timedelta(seconds=STEP_S * seq),
        labels={"role": "web"},
        metrics=metrics,
        seq=seq,
    )


def steady(node_id: str, start: int, count: int) -> list[MetricBatch]:
    """``count`` normal batches from ``start``."""
    return [batch_at(node_id, seq) for seq in range(start, start + count)]
