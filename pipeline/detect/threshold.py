"""Self-calibrating host thresholds: a streaming quantile of past scores, with hysteresis.

Scalars, one host at a time; the per-series versions of the same rules run inside the compiled
pass of :mod:`pipeline.detect.series_kernel`.
"""

from __future__ import annotations


def calibrate(quantile: float, score: float, level: float, rate: float) -> float:
    """One Robbins-Monro step of the ``level`` quantile of ``score``.

    The estimate rises by ``rate * level`` when a score exceeds it and falls by
    ``rate * (1 - level)`` otherwise, so it settles where a fraction ``1 - level`` of scores exceed.

    Examples
    --------
    >>> q = 0.0
    >>> for i in range(2001):
    ...     q = calibrate(q, (i / 2000) % 1.0, 0.9, 0.01)
    >>> 0.8 < q < 1.0
    True
    """
    return quantile + rate * (level if score > quantile else level - 1.0)


def flag_with_hysteresis(score: float, threshold: float, on: bool, hysteresis: float) -> bool:
    """Flag when ``score`` reaches ``threshold``; stay flagged down to ``threshold*(1-hysteresis)``.

    Examples
    --------
    >>> flag_with_hysteresis(0.75, 0.8, True, 0.1), flag_with_hysteresis(0.75, 0.8, False, 0.1)
    (True, False)
    """
    return score >= threshold * (1.0 - hysteresis) if on else score >= threshold
