"""Point-wise and per-segment detection metrics over a score series and binary labels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def _curve(score: Floats, labels: Bools) -> tuple[Floats, Floats]:
    """Precision and recall at every distinct threshold, highest threshold first."""
    order = np.argsort(-score, kind="stable")
    s, y = score[order], labels[order].astype(np.float64)
    tp, fp = np.cumsum(y), np.cumsum(1.0 - y)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last row of each tie group
    positives = max(1.0, float(y.sum()))
    return tp[last] / (tp[last] + fp[last]), tp[last] / positives


def best_f1(score: Floats, labels: Bools) -> float:
    """Highest F1 over all thresholds (a point is detected when its score >= threshold).

    Examples
    --------
    >>> best_f1(np.array([0.1, 0.9, 0.8, 0.2]), np.array([False, True, True, False]))
    1.0
    """
    if not labels.any():
        return 0.0
    precision, recall = _curve(score, labels)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(f1.max())


def average_precision(score: Floats, labels: Bools) -> float:
    """Area under the step precision-recall curve (as scikit-learn computes it).

    Examples
    --------
    >>> average_precision(np.array([0.9, 0.8, 0.1]), np.array([True, False, True]))
    0.8333333333333333
    """
    if not labels.any():
        return 0.0
    precision, recall = _curve(score, labels)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def point_adjusted_f1(score: Floats, labels: Bools) -> float:
    """Best F1 when one detection inside a labelled segment counts the whole segment.

    Generous by construction; report it only beside a random score's.
    """
    if not labels.any():
        return 0.0
    adjusted = score.copy()
    for start, stop in segments(labels):
        adjusted[start:stop] = score[start:stop].max()
    return best_f1(adjusted, labels)


def segments(labels: Bools) -> list[tuple[int, int]]:
    """``(start, stop)`` row ranges of the runs of labelled rows, stop exclusive.

    Examples
    --------
    >>> segments(np.array([0, 1, 1, 0, 1], dtype=bool))
    [(1, 3), (4, 5)]
    """
    edges = np.flatnonzero(np.diff(np.r_[0, labels.astype(np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def segment_figures(flags: Bools, labels: Bools) -> tuple[float, float]:
    """Share of labelled segments holding a flag, and share of flags inside a segment.

    A segment is a run of labelled rows; either share is NaN when there is nothing to share.

    Examples
    --------
    >>> labels = np.array([0, 1, 1, 0, 0, 1, 0], dtype=bool)
    >>> segment_figures(np.array([0, 0, 1, 0, 1, 0, 0], dtype=bool), labels)
    (0.5, 0.5)
    """
    runs = segments(labels)
    found = sum(bool(flags[start:stop].any()) for start, stop in runs)
    alerts = int(flags.sum())
    return (
        found / len(runs) if runs else float("nan"),
        int((flags & labels).sum()) / alerts if alerts else float("nan"),
    )
