"""A worker group's reading: aggregate rate, scaling, batches lost or processed twice."""

from __future__ import annotations

import pytest

from pipeline.bench.worker_group import GroupReading
from pipeline.commands.stream_bench import BenchResult, _add_group


def one_worker_result(points_per_s: float) -> BenchResult:
    result = BenchResult(nodes=10, metrics=20, batches=1000, points=20_000, window_s=5.0)
    result.points_per_s = result.one_worker_points_per_s = points_per_s
    return result


def test_group_rate_becomes_points_per_s_and_scaling_is_over_one_worker() -> None:
    result = one_worker_result(points_per_s=10_000.0)
    reading = GroupReading(
        workers=2,
        expected=1000,
        batches=1000,
        points=20_000,
        timed=900,
        elapsed_s=1.0,
        dead_letters=0,
    )
    _add_group(result, reading)
    assert result.workers == 2
    assert result.points_per_s == pytest.approx(900 * 20)
    assert result.scaling == pytest.approx(1.8)
    assert result.one_worker_points_per_s == 10_000.0
    assert (result.group_processed_twice, result.group_lost) == (0, 0)
    assert result.readings["group"].per_s == pytest.approx(900.0)


def test_batches_counted_twice_or_missing_are_reported() -> None:
    twice = one_worker_result(points_per_s=1.0)
    _add_group(twice, GroupReading(2, 1000, 1012, 20_240, 900, 1.0, 0))
    assert (twice.group_processed_twice, twice.group_lost) == (12, 0)
    short = one_worker_result(points_per_s=1.0)
    _add_group(short, GroupReading(2, 1000, 990, 19_800, 900, 1.0, 0))
    assert (short.group_processed_twice, short.group_lost) == (0, 10)


def test_backlog_the_group_left_unacknowledged_is_reported() -> None:
    result = one_worker_result(points_per_s=1.0)
    _add_group(result, GroupReading(2, 1000, 1000, 20_000, 900, 1.0, 0, unacknowledged=40))
    assert result.group_unacknowledged == 40
