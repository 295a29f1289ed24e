"""Value novelty: how far a sample falls outside the range its series has taken so far.

A level never seen before (a machine running hotter than ever, a queue longer than ever) is the
clearest sign of a new situation, and a repeat of a familiar spike is not. Each series keeps the
lowest and highest value it has seen; both relax very slowly toward the expected value so that one
wild sample does not hide every later one forever.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def novelty_score(
    low: Floats, high: Floats, values: Floats, level: Floats, warm: Bools, k: float
) -> Floats:
    """Score in [0, 1): distance outside ``[low, high]`` in units of its width, squashed.

    Examples
    --------
    >>> one = np.ones(3)
    >>> s = novelty_score(0 * one, one, np.array([0.5, 1.5, 3.0]), one, one > 0, k=0.05)
    >>> s.round(2).tolist()
    [0.0, 0.91, 0.98]
    """
    width = np.maximum(high - low, 1e-9 + 1e-6 * np.abs(level))
    outside = np.maximum(np.maximum(values - high, low - values), 0.0) / width
    outside = np.minimum(outside, 1e12)  # inf samples (never warm) must not make inf / inf
    return np.where(warm, outside / (outside + k), 0.0)


def learn_range(
    state: dict[str, np.ndarray],
    rows: Any,
    ok: Bools,
    values: Floats,
    expected: Floats,
    first: Bools | None,
    forget: float,
) -> None:
    """Widen each row's range to its finite value; relax it toward ``expected`` by ``forget``.

    ``first`` marks rows seeing their first value (their range starts there); None means no row
    is new and every value is finite, the steady case that needs no masks.
    """
    low, high = state["low"][rows], state["high"][rows]
    relaxed_high = high - forget * (high - expected)
    relaxed_low = low + forget * (expected - low)
    if first is None:
        state["high"][rows] = np.maximum(values, relaxed_high)
        state["low"][rows] = np.minimum(values, relaxed_low)
        return
    relaxed_high = np.where(first, values, relaxed_high)
    relaxed_low = np.where(first, values, relaxed_low)
    state["high"][rows] = np.where(ok, np.maximum(values, relaxed_high), high)
    state["low"][rows] = np.where(ok, np.minimum(values, relaxed_low), low)
