"""Shared pure factories; markers are declared in pyproject.toml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.models import AnomalyEvent, MetricBatch

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def make_batch(node_id: str = "node-1", seq: int = 0, **overrides: Any) -> MetricBatch:
    """A valid MetricBatch sampled ``seq`` × 10 s after BASE_TIME."""
    fields: dict[str, Any] = {
        "node_id": node_id,
        "sampled_at": BASE_TIME + timedelta(seconds=10 * seq),
        "labels": {"role": "web", "zone": "z1"},
        "metrics": {"cpu.usage_user": 12.5, "mem.used_percent": 40.0, "load.load1": 0.7},
        "seq": seq,
    }
    return MetricBatch(**(fields | overrides))


def make_event(**overrides: Any) -> AnomalyEvent:
    """A valid series AnomalyEvent."""
    fields: dict[str, Any] = {
        "event_id": "evt-1",
        "node_id": "node-1",
        "scope": "series",
        "metric": "cpu.usage_user",
        "window_start_at": BASE_TIME,
        "window_end_at": BASE_TIME + timedelta(seconds=60),
        "score": 0.97,
        "threshold": 0.9,
        "observed": 98.0,
        "expected": 20.0,
        "detector": "robust_zscore",
        "severity": "critical",
    }
    return AnomalyEvent(**(fields | overrides))


@pytest.fixture
def batch() -> MetricBatch:
    return make_batch()
