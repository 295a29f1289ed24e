"""Page-Hinkley change detection, compiled, with River's ``update``/``drift_detected`` API.

The arithmetic is the one of ``river.drift.PageHinkley`` (cumulative mean since the last
detection, faded sums of the deviation minus/plus ``delta``, a detection when either sum moves
more than ``threshold`` from its extreme), written as a numba function over a small state vector,
so the per-series pass (:mod:`pipeline.detect.series_watch`) runs it for every series of a batch
inside one compiled loop. :class:`PageHinkley` wraps one state vector for use one value at a time,
as River's detector is used; its detections match River's on the same stream.

One addition to River: :func:`ph_hold` has the test skip the next values while keeping what it
has learned, so values known not to belong to the stream's normal (a fault the score already
flags, and the model's settling after it) are left out instead of becoming the new reference.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]

# Positions in one detector's state vector. DETECTED is 1 right after a detection, 0 normally,
# and -k while the next k values are held off (:func:`ph_hold`).
N, MEAN, SUM_UP, SUM_DOWN, MIN_UP, MAX_DOWN, DETECTED, STATE_SIZE = range(8)
MODES = {"up": 1, "down": 2, "both": 3}


@njit(cache=True)
def ph_reset(state: Floats) -> None:
    """Start afresh, as River's ``_reset`` does (its decrease extreme starts at -1, not -inf)."""
    state[N] = 0.0
    state[MEAN] = 0.0
    state[SUM_UP] = 0.0
    state[SUM_DOWN] = 0.0
    state[MIN_UP] = np.inf
    state[MAX_DOWN] = -1.0
    state[DETECTED] = 0.0


@njit(cache=True)
def ph_hold(state: Floats, samples: float) -> None:
    """Skip the next ``samples`` values (or more, if already held), keeping the statistics.

    The test then resumes against the reference it learned before the hold: the mean of the
    values before it, and its sums where they were. A detection not yet acted on still resets
    it first, as the next update would have (not in River).
    """
    if state[DETECTED] > 0.0:
        ph_reset(state)
    state[DETECTED] = min(state[DETECTED], -math.ceil(max(samples, 0.0)))


@njit(cache=True)
def ph_update(
    state: Floats,
    x: float,
    min_instances: float,
    delta: float,
    threshold: float,
    alpha: float,
    mode: int,
) -> bool:
    """Feed ``x`` to the detector held in ``state``; return whether it detected a change.

    ``mode`` is 1 (increases), 2 (decreases) or 3 (both). A detection resets the detector at the
    next update, as in River, so a lasting change is reported once.
    """
    if state[N] < 0.0:  # held by the previous release: afresh after -N values
        state[DETECTED], state[N] = state[N], 0.0
    if state[DETECTED] < 0.0:  # held off (:func:`ph_hold`): the value is not looked at
        state[DETECTED] += 1.0
        return False
    if state[DETECTED] > 0.0:
        ph_reset(state)
    state[N] += 1.0
    state[MEAN] += (x - state[MEAN]) / state[N]
    dev = x - state[MEAN]
    state[SUM_UP] = alpha * state[SUM_UP] + dev - delta
    state[SUM_DOWN] = alpha * state[SUM_DOWN] + dev + delta
    state[MIN_UP] = min(state[MIN_UP], state[SUM_UP])
    state[MAX_DOWN] = max(state[MAX_DOWN], state[SUM_DOWN])
    if state[N] < min_instances:
        return False
    up = state[SUM_UP] - state[MIN_UP] > threshold and mode != 2
    down = state[MAX_DOWN] - state[SUM_DOWN] > threshold and mode != 1
    state[DETECTED] = 1.0 if (up or down) else 0.0
    return up or down


def fresh_state() -> Floats:
    """The state vector of a detector that has seen nothing."""
    state = np.zeros(STATE_SIZE)
    ph_reset(state)
    return state


class PageHinkley:
    """Page-Hinkley test for a change in the mean of a stream (River's API and arithmetic).

    Parameters
    ----------
    min_instances
        Values seen since the last detection before a change can be reported.
    delta
        Magnitude of change tolerated (subtracted from each deviation).
    threshold
        Change detection threshold (lambda).
    alpha
        Fading factor of the cumulative sums.
    mode
        ``"up"``, ``"down"`` or ``"both"``.

    Examples
    --------
    >>> ph = PageHinkley(threshold=10.0)
    >>> hits = []
    >>> for i in range(200):
    ...     ph.update(0.0 if i < 100 else 1.0)
    ...     if ph.drift_detected:
    ...         hits.append(i)
    >>> hits
    [110]
    """

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self.state = fresh_state()

    @property
    def drift_detected(self) -> bool:
        """Whether the last value completed a change."""
        return bool(self.state[DETECTED] > 0.0)

    def update(self, x: float) -> None:
        """Feed one value."""
        ph_update(
            self.state,
            float(x),
            float(self.min_instances),
            self.delta,
            self.threshold,
            self.alpha,
            MODES[self.mode],
        )
