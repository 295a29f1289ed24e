"""Self-calibrating thresholds: a streaming quantile of past scores, with hysteresis."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def calibrate(quantile: Floats, score: Floats, level: float, rate: float) -> Floats:
    """One Robbins-Monro step of the ``level`` quantile of ``score`` (element-wise).

    The estimate rises by ``rate * level`` when a score exceeds it and falls by
    ``rate * (1 - level)`` otherwise, so it settles where a fraction ``1 - level`` of scores exceed.

    Examples
    --------
    >>> q = np.zeros(1)
    >>> for s in np.linspace(0, 1, 2001) % 1.0:
    ...     q = calibrate(q, np.array([s]), 0.9, 0.01)
    >>> bool(0.8 < q[0] < 1.0)
    True
    """
    above = score > quantile
    return quantile + rate * np.where(above, level, level - 1.0)


def flag_with_hysteresis(score: Floats, threshold: Floats, on: Bools, hysteresis: float) -> Bools:
    """Flag when ``score`` reaches ``threshold``; stay flagged down to ``threshold*(1-hysteresis)``.

    Examples
    --------
    >>> thr = np.array([0.8, 0.8])
    >>> flag_with_hysteresis(np.array([0.75, 0.75]), thr, np.array([True, False]), 0.1).tolist()
    [True, False]
    """
    release = threshold * (1.0 - hysteresis)
    return np.where(on, score >= release, score >= threshold)
