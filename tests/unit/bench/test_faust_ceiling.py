"""The ceiling probe's stopwatch: timed from the first chunk, written once, when all are in."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.bench.faust_ceiling import Stopwatch


def test_rate_is_written_once_every_expected_message_is_read(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    stopwatch = Stopwatch(expected=300, result_file=result)
    stopwatch.count(100)
    stopwatch.count(100)
    assert not result.exists()
    stopwatch.count(100)
    written = json.loads(result.read_text())
    assert written["messages_per_s"] > 0
    result.write_text("kept")
    stopwatch.count(100)  # more messages after the result: the figure stands
    assert result.read_text() == "kept"
