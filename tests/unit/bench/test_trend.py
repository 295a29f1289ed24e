"""The soak verdict: a leak or a growing lag fails it, noise and warm-up do not."""

from __future__ import annotations

import math

import pytest

from pipeline.bench.trend import MIB, SoakSample, judge, second_half, slope


def _run(rss_mib: list[float], lag: list[int] | None = None) -> list[SoakSample]:
    lag = lag or [10] * len(rss_mib)
    return [
        SoakSample(60.0 * i, int(r * MIB), lg, lg, 100 * i, 100 * i, 0)
        for i, (r, lg) in enumerate(zip(rss_mib, lag, strict=True))
    ]


def test_warm_up_growth_in_the_first_half_is_ignored() -> None:
    rss = [100 + 10 * i for i in range(10)] + [200 + 0.2 * math.sin(i) for i in range(11)]
    verdict = judge(_run(rss), max_rss_slope_mib_per_min=1.0, lag_bound_messages=100)
    assert verdict.memory_flat and verdict.ok
    assert abs(verdict.rss_slope_mib_per_min) < 0.2


def test_a_steady_leak_fails() -> None:
    rss = [100 + 1.5 * i for i in range(30)]
    verdict = judge(_run(rss), max_rss_slope_mib_per_min=1.0, lag_bound_messages=100)
    assert not verdict.memory_flat and not verdict.ok
    assert verdict.rss_slope_mib_per_min == pytest.approx(1.5)


def test_lag_beyond_the_bound_in_the_second_half_fails() -> None:
    lag = [10] * 15 + [10 * i for i in range(15)]
    verdict = judge(_run([100.0] * 30, lag), max_rss_slope_mib_per_min=1.0, lag_bound_messages=100)
    assert verdict.memory_flat and not verdict.lag_bounded
    assert verdict.lag_max_messages == 140


def test_the_counted_backlog_counts_even_when_the_gauge_is_low() -> None:
    samples = [SoakSample(60.0 * i, 100 * MIB, 0, 500, i, i, 0) for i in range(10)]
    assert not judge(samples, 1.0, 100).lag_bounded


def test_too_few_samples_never_pass() -> None:
    assert not judge(_run([100.0, 100.0]), 1.0, 100).ok


def test_second_half_and_slope() -> None:
    samples = _run([1.0] * 11)
    assert [s.elapsed_s for s in second_half(samples)] == [300.0 + 60 * i for i in range(6)]
    assert slope([0, 1, 2], [5, 5, 5]) == 0.0
    with pytest.raises(ValueError):
        slope([0, 1], [1])
    with pytest.raises(ValueError):
        judge(samples, 0.0, 10)
