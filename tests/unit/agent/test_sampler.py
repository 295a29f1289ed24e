"""Sampler: one valid MetricBatch per round, seq increasing, a broken collector isolated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.agent.collectors.base import Collector
from pipeline.agent.sampler import Sampler
from tests.conftest import BASE_TIME


class _Fixed(Collector):
    name = "fixed"

    def __init__(self, values: Callable[[float], dict[str, float]]) -> None:
        super().__init__(Path("/nonexistent"), Path("/nonexistent"))
        self.values = values

    def collect(self, now_s: float) -> dict[str, float]:
        return self.values(now_s)


class _Broken(Collector):
    name = "broken"

    def collect(self, now_s: float) -> dict[str, float]:
        raise OSError("device vanished")


def test_batches_carry_node_labels_metrics_and_increasing_seq() -> None:
    sampler = Sampler(
        [_Fixed(lambda now: {"cpu.usage_user": now})],
        "node-7",
        {"role": "db"},
        first_seq=41,
        monotonic=iter([1.0, 2.0]).__next__,
        wall_clock=lambda: BASE_TIME,
    )
    first, second = sampler.sample_one(), sampler.sample_one({"agent.spool_dropped": 3.0})
    assert (first.seq, second.seq) == (41, 42)
    assert first.node_id == "node-7" and first.labels == {"role": "db"}
    assert first.metrics == {"cpu.usage_user": 1.0}
    assert second.metrics == {"cpu.usage_user": 2.0, "agent.spool_dropped": 3.0}
    assert first.batch_id != second.batch_id
    assert first.sampled_at == BASE_TIME


def test_broken_collector_is_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    sampler = Sampler([_Broken(), _Fixed(lambda now: {"load.load1": 0.5})], "n1")
    batches = [sampler.sample_one() for _ in range(3)]
    assert all(b.metrics == {"load.load1": 0.5} for b in batches)
    assert len([r for r in caplog.records if "broken" in r.getMessage()]) == 1


def test_non_finite_values_become_gaps() -> None:
    values = {"a.nan": float("nan"), "a.inf": float("inf"), "a.ok": 1.0}
    batch = Sampler([_Fixed(lambda now: values)], "n1").sample_one()
    assert batch.metrics == {"a.ok": 1.0}


def test_prime_reads_without_consuming_a_seq() -> None:
    reads: list[float] = []
    collector = _Fixed(lambda now: reads.append(now) or {"a.b": 1.0})
    sampler = Sampler([collector], "n1", monotonic=iter([5.0, 6.0]).__next__)
    sampler.prime()
    assert sampler.sample_one().seq == 0
    assert reads == [5.0, 6.0]


def test_negative_first_seq_is_refused() -> None:
    with pytest.raises(ValueError, match="first_seq"):
        Sampler([], "n1", first_seq=-1)
