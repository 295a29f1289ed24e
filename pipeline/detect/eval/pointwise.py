"""Point-wise detection metrics over a score series and binary labels."""

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
    edges = np.flatnonzero(np.diff(np.r_[0, labels.astype(np.int8), 0]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        adjusted[start:stop] = score[start:stop].max()
    return best_f1(adjusted, labels)
