"""The ceiling probe's stopwatch: timed from the first chunk, written once, when all are in."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.bench.faust_ceiling import Stopwatch


def test_reading_is_written_once_every_expected_message_is_read(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    ticks = iter([10.0, 10.5, 12.0, 13.0])
    stopwatch = Stopwatch(expected=300, result_file=result, clock=lambda: next(ticks))
    stopwatch.count(100)  # starts the clock at 10.0: read, not timed
    stopwatch.count(100)
    assert not result.exists()
    stopwatch.count(100)
    # 200 messages after the first chunk, from 10.0 to 12.0.
    assert json.loads(result.read_text()) == {"read": 300, "timed": 200, "elapsed_s": 2.0}
    result.write_text("kept")
    stopwatch.count(100)  # more messages after the result: the figure stands
    assert result.read_text() == "kept"


def test_a_clock_at_zero_still_starts_the_stopwatch(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    ticks = iter([0.0, 4.0])
    stopwatch = Stopwatch(expected=20, result_file=result, clock=lambda: next(ticks))
    stopwatch.count(10)
    stopwatch.count(10)
    assert json.loads(result.read_text()) == {"read": 20, "timed": 10, "elapsed_s": 4.0}
