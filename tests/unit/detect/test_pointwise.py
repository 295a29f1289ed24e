"""Point-wise best-F1, AP and point-adjusted F1, and the segments a fixed decision finds."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect.eval.pointwise import (
    average_precision,
    best_f1,
    point_adjusted_f1,
    segment_figures,
)

LABELS = np.array([0, 0, 1, 1, 1, 0, 0, 0, 1, 0], dtype=bool)


def test_perfect_ranking() -> None:
    score = LABELS.astype(float)
    assert best_f1(score, LABELS) == 1.0 and average_precision(score, LABELS) == 1.0


def test_hand_computed_values() -> None:
    score = np.array([0.1, 0.2, 0.9, 0.3, 0.8, 0.7, 0.0, 0.0, 0.05, 0.0])
    # Ranked: 0.9(+) 0.8(+) 0.7(-) 0.3(+) 0.2(-) 0.1(-) 0.05(+) ...
    # AP = (1/4)(1 + 1 + 3/4 + 4/7)
    assert average_precision(score, LABELS) == pytest.approx((1 + 1 + 0.75 + 4 / 7) / 4)
    # Best F1: top 2 → P=1, R=.5, F1=2/3; top 4 → P=.75, R=.75, F1=.75
    assert best_f1(score, LABELS) == pytest.approx(0.75)


def test_ties_are_one_threshold() -> None:
    score = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert best_f1(score, LABELS) == pytest.approx(2 * 0.4 / 1.4)
    assert average_precision(score, LABELS) == pytest.approx(0.4)


def test_point_adjustment_credits_whole_segments() -> None:
    score = np.zeros(10)
    score[3] = 1.0  # one hit inside the first segment
    assert point_adjusted_f1(score, LABELS) > best_f1(score, LABELS)
    assert point_adjusted_f1(score, LABELS) == pytest.approx(2 * 0.75 / 1.75)


def test_no_positive_labels() -> None:
    assert best_f1(np.ones(3), np.zeros(3, dtype=bool)) == 0.0


def test_segment_figures_count_each_labelled_run_once() -> None:
    labels = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    # Two flags in the first segment find it once; the one outside is a false alert.
    flags = np.array([0, 1, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    assert segment_figures(flags, labels) == (0.5, 2 / 3)
    quiet = np.zeros(10, dtype=bool)
    found, precision = segment_figures(quiet, labels)
    assert found == 0.0 and np.isnan(precision)
    assert np.isnan(segment_figures(flags, quiet)[0])
