"""Node frames: rows of the metrics measurement aligned into one array per metric."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.store.frames import frames_flux, frames_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(node: str, metric: str, seconds: int, value: float) -> dict[str, object]:
    return {
        "node": node,
        "metric": metric,
        "_time": T0 + timedelta(seconds=seconds),
        "_value": value,
    }


def test_rows_align_by_time_with_gaps_as_nan() -> None:
    frames = frames_of(
        [
            row("a", "cpu.usage_user", 0, 1.0),
            row("a", "cpu.usage_user", 10, 2.0),
            row("a", "proc.hog.cpu_percent", 10, 99.0),
            row("b", "mem.used_percent", 0, 50.0),
        ]
    )
    a = frames["a"]
    assert list(a.times_s) == [T0.timestamp(), T0.timestamp() + 10]
    assert list(a.series["cpu.usage_user"]) == [1.0, 2.0]
    hog = a.series["proc.hog.cpu_percent"]
    assert math.isnan(hog[0]) and hog[1] == 99.0
    assert set(frames) == {"a", "b"} and list(frames["b"].series) == ["mem.used_percent"]


def test_rows_are_averaged_per_window() -> None:
    rows = [row("a", "cpu.usage_user", s, v) for s, v in ((0, 1.0), (4, 3.0), (12, 10.0))]
    frames = frames_of(rows, every_s=10)
    assert list(frames["a"].times_s) == [T0.timestamp(), T0.timestamp() + 10]
    assert list(frames["a"].series["cpu.usage_user"]) == [2.0, 10.0]


def test_flux_selects_the_nodes_escaped_raw_and_a_zero_window_is_refused() -> None:
    flux = frames_flux("db/autogen", ['x" or true'], T0, T0 + timedelta(hours=1))
    assert 'r["node"] == "x\\" or true"' in flux and "aggregateWindow" not in flux
    with pytest.raises(ValueError, match="every_s"):
        frames_of([], every_s=0)
