"""NAB scoring on hand-made cases computed from the published rules."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect.eval.nab_score import (
    PROFILES,
    best_threshold_score,
    label_rows,
    normalised,
    probation_rows,
    scaled_sigmoid,
)

N = 1000  # probation: first 150 rows
WINDOW = (500, 599)


def corpus_score(
    scores: list[np.ndarray], windows: list[list[tuple[int, int]]]
) -> dict[str, float]:
    labelled = [label_rows(len(s), w) for s, w in zip(scores, windows, strict=True)]
    total = sum(lab.n_windows for lab in labelled)
    return {
        p.name: normalised(best_threshold_score(labelled, scores, p)[0], total, p) for p in PROFILES
    }


def detections(*rows: int, n: int = N) -> np.ndarray:
    s = np.zeros(n)
    s[list(rows)] = 1.0
    return s


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_rows(1000) == 150 and probation_rows(4032) == 604
    assert probation_rows(22695) == 750


def test_sigmoid_shape() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.9866, abs=1e-4)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0
    assert scaled_sigmoid(-0.5) > scaled_sigmoid(-0.1) > 0 > scaled_sigmoid(0.5)


def test_perfect_detector_scores_100_and_null_scores_0() -> None:
    windows = [[WINDOW], [(200, 260), (700, 760)], []]
    perfect = [detections(500), detections(200, 700), detections()]
    null = [np.zeros(N)] * 3
    assert corpus_score(perfect, windows) == pytest.approx(dict.fromkeys(_names(), 100.0))
    assert corpus_score(null, windows) == pytest.approx(dict.fromkeys(_names(), 0.0))


def test_one_early_hit_and_one_far_false_positive() -> None:
    # raw = A_TP * 1 + A_FP * (-1); null = -A_FN; perfect = A_TP.
    got = corpus_score([detections(500, 300)], [[WINDOW]])
    assert got["standard"] == pytest.approx(100 * (1 - 0.11 + 1) / 2)
    assert got["reward_low_FP_rate"] == pytest.approx(100 * (1 - 0.22 + 1) / 2)
    assert got["reward_low_FN_rate"] == pytest.approx(100 * (1 - 0.11 + 2) / 3)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    once = corpus_score([detections(520)], [[WINDOW]])["standard"]
    again = corpus_score([detections(520, 530, 590)], [[WINDOW]])["standard"]
    later = corpus_score([detections(580)], [[WINDOW]])["standard"]
    assert once == again > later > 50


def test_probation_detections_are_ignored() -> None:
    assert corpus_score([detections(10, 500)], [[WINDOW]])["standard"] == pytest.approx(100)


def test_false_positive_right_after_a_window_costs_less() -> None:
    near = corpus_score([detections(500, 605)], [[WINDOW]])["standard"]
    far = corpus_score([detections(500, 950)], [[WINDOW]])["standard"]
    assert 100 > near > far


def test_threshold_is_chosen_over_the_corpus() -> None:
    # A 0.9 false positive in each of many files is worse than the 0.8 hit it would admit.
    many_fp = [np.where(np.arange(N) == 300, 0.9, 0.0) for _ in range(20)]
    hit = np.zeros(N)
    hit[500] = 0.8
    labelled = [label_rows(N, [WINDOW])] + [label_rows(N, [])] * 20
    raw, threshold = best_threshold_score(labelled, [hit, *many_fp], PROFILES[0])
    assert threshold == np.inf and raw == -1.0
    raw, threshold = best_threshold_score(labelled[:3], [hit, *many_fp[:2]], PROFILES[0])
    assert threshold == 0.8 and raw == pytest.approx(1 - 2 * 0.11)


def _names() -> list[str]:
    return [p.name for p in PROFILES]
