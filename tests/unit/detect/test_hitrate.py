"""HitRate@P % against ASD-style interpretation labels, on a small file written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.detect.eval.hitrate import hit_rate, read_segments
from pipeline.errors import FleetwatchError


def test_hit_rate_counts_blamed_metrics_in_the_top_of_each_segment_row(tmp_path: Path) -> None:
    path = tmp_path / "omi-1.txt"
    path.write_text("1-2:1,3\n4-4:2\n")
    segments = read_segments(path)
    ranking = np.array(
        [
            [0.0, 0.0, 0.0],
            [3.0, 1.0, 2.0],  # blamed 1 and 3 are the top two: hit 1.0
            [3.0, 2.0, 1.0],  # top two hold 1 only: 0.5
            [0.0, 0.0, 0.0],
            [1.0, 3.0, 2.0],  # blamed 2 is first: 1.0
        ]
    )
    total, rows = hit_rate(ranking, segments, 100.0)
    assert rows == 3
    assert total == pytest.approx(2.5)
    total_150, _ = hit_rate(ranking, segments, 150.0)  # top 3 of 2 blamed, top 1 of 1
    assert total_150 == pytest.approx(3.0)


def test_a_malformed_label_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "omi-2.txt"
    path.write_text("1-2:1\nnonsense\n")
    with pytest.raises(FleetwatchError, match="omi-2.txt:2"):
        read_segments(path)
