"""Per-series decisions beyond the score: drift, capacity forecast, saturation, learned schedules.

One compiled pass over a host's series, right after the level model's pass
(:mod:`pipeline.detect.series_kernel`), decides for each series why it is flagged:

- ``drift``: a Page-Hinkley test (:mod:`pipeline.detect.drift`) on the model's standardized
  residual finds a lasting bias, i.e. a change the level model is absorbing rather than fitting;
  it is reported only when it takes the residual's recent level away from its long-run normal
  (a test restarted inside a transient otherwise reports the residual coming back);
- ``forecast``: for bounded series (:mod:`pipeline.detect.bounds`), a damped linear fit of the
  recent values (exponential time weights, slope and residual spread) predicts the time left until
  the bound; a significant approach within the horizon raises one event per episode;
- ``saturated``: a bounded series at its bound is anomalous even when stable, once per episode;
- ``score``: the level model's own flag.

A flag that recurs at the same hour of day on past days (a cron job, a nightly rotation) is
learned: a decayed count per hour slot; once it reaches ``schedule_min``, flags in that slot are
held back. Saturation is never held back.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from pipeline.detect.drift import (
    DETECTED,
    MAX_DOWN,
    MIN_UP,
    STATE_SIZE,
    SUM_DOWN,
    SUM_UP,
    N,
    ph_hold,
    ph_reset,
    ph_update,
)
from pipeline.detect.series_kernel import compiled

Floats = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]

# Why a series is flagged (a value per series and sample; the events' ``reason``).
NONE, SCORE, DRIFT, FORECAST, SATURATED = range(5)
REASONS = ("", "score", "drift", "forecast", "saturated")
# Fields of the damped linear fit: weight, mean time (h), mean value, and the co-moments.
W, T_MEAN, X_MEAN, S_TT, S_TX, S_XX, N_FIT = range(7)
# The residual's level as the drift test sees it: its long-run normal (over the test's own
# memory), its recent level (over the test's minimum run) and how many values made them.
NORMAL, RECENT, SEEN = range(3)
# Episode state: forecast alarm raised, saturation raised.
FORECAST_ON, SATURATED_ON = range(2)
SLOTS = 24  # hour-of-day slots of the schedule memory
# Positions in the parameter vector.
(
    PH_DELTA,
    PH_THRESHOLD,
    PH_ALPHA,
    PH_MIN,
    FIT_TAU_H,
    HORIZON_H,
    SIGNIFICANCE,
    CEILING_MARGIN,
    FLOOR_SHARE,
    SCHEDULE_DECAY,
    SCHEDULE_MIN,
    WARMUP,
    PH_CLIP,
    PH_SETTLE_S,
    N_WATCH_PARAMS,
) = range(15)

WATCH_FIELDS = ("drift", "bias", "fit", "episode", "recur", "recur_day")


def empty_watch(rows: int) -> dict[str, np.ndarray]:
    """Fresh watch state for ``rows`` series (about 350 bytes each)."""
    # Zeros throughout, like a reset row: a Page-Hinkley extreme of 0 instead of River's +inf/-1
    # only matters for the first value; day 0 of the schedule memory means never.
    return {
        "drift": np.zeros((rows, STATE_SIZE)),
        "bias": np.zeros((rows, 3)),
        "fit": np.zeros((rows, N_FIT)),
        "episode": np.zeros((rows, 2), dtype=np.bool_),
        "recur": np.zeros((rows, SLOTS), dtype=np.float32),
        "recur_day": np.zeros((rows, SLOTS), dtype=np.int32),
    }


@njit(cache=True)
def _track_bias(bias: Floats, r: int, zc: float, p: Floats) -> None:
    """Fold ``zc`` into the residual's long-run normal and its recent level.

    Each is a running mean until it has seen its span, exponential afterwards.
    """
    seen = bias[r, SEEN] + 1.0
    bias[r, NORMAL] += (zc - bias[r, NORMAL]) * max(1.0 - p[PH_ALPHA], 1.0 / seen)
    bias[r, RECENT] += (zc - bias[r, RECENT]) * max(1.0 / p[PH_MIN], 1.0 / seen)
    bias[r, SEEN] = seen


@njit(cache=True)
def _departs(drift: Floats, bias: Floats, r: int, p: Floats) -> bool:
    """Whether the change just detected takes the residual away from its long-run normal.

    Page-Hinkley compares with the mean since its last restart; restarted inside a transient
    (a scheduled rotation's, the model's settling), the transient is its reference, and the
    residual coming back to its usual level reads as a change. Only a recent level beyond the
    normal by more than ``delta``, on the side detected, is one.
    """
    away = bias[r, RECENT] - bias[r, NORMAL]
    up = drift[r, SUM_UP] - drift[r, MIN_UP] > p[PH_THRESHOLD]
    down = drift[r, MAX_DOWN] - drift[r, SUM_DOWN] > p[PH_THRESHOLD]
    return bool((up and away > p[PH_DELTA]) or (down and away < -p[PH_DELTA]))


@njit(cache=True)
def _fit_update(fit: Floats, r: int, t_h: float, x: float, decay: float) -> None:
    """Exponentially weighted running regression of x on t (West's weighted updates)."""
    w = fit[r, W] * decay + 1.0
    dt = t_h - fit[r, T_MEAN]
    dx = x - fit[r, X_MEAN]
    t_mean = fit[r, T_MEAN] + dt / w
    x_mean = fit[r, X_MEAN] + dx / w
    fit[r, S_TT] = fit[r, S_TT] * decay + dt * (t_h - t_mean)
    fit[r, S_TX] = fit[r, S_TX] * decay + dt * (x - x_mean)
    fit[r, S_XX] = fit[r, S_XX] * decay + dx * (x - x_mean)
    fit[r, W], fit[r, T_MEAN], fit[r, X_MEAN] = w, t_mean, x_mean


@njit(cache=True)
def _fitted(fit: Floats, r: int, t_h: float) -> tuple[float, float, float]:
    """The fit's value now, its slope (per hour) and the slope's standard error."""
    w, s_tt = fit[r, W], fit[r, S_TT]
    if w < 3.0 or s_tt <= 0.0:
        return fit[r, X_MEAN], 0.0, np.inf
    slope = fit[r, S_TX] / s_tt
    spread = max(fit[r, S_XX] - slope * fit[r, S_TX], 0.0) / (w - 2.0)
    return fit[r, X_MEAN] + slope * (t_h - fit[r, T_MEAN]), slope, math.sqrt(spread / s_tt)


@njit(cache=True)
def _eta_h(now: float, slope: float, se: float, bound: int, z: float) -> tuple[float, float, float]:
    """Hours until the bound: (estimate, low, high); inf when not approaching.

    ``z`` standard errors of the slope give the interval; the estimate is inf unless the approach
    is significant at that level.
    """
    headroom = 100.0 - now if bound == 1 else now
    speed = slope if bound == 1 else -slope
    if headroom <= 0.0:
        return 0.0, 0.0, 0.0
    if speed - z * se <= 0.0:
        return np.inf, headroom / (speed + z * se) if speed + z * se > 0 else np.inf, np.inf
    return headroom / speed, headroom / (speed + z * se), headroom / (speed - z * se)


@njit(cache=True)
def _saturated(x: float, bound: int, high: float, p: Floats, on: bool) -> bool:
    """At the bound (with hysteresis): within the margin of 100 %, or near 0 of its range."""
    if bound == 1:
        return bool(x >= 100.0 - (p[CEILING_MARGIN] * (3.0 if on else 1.0)))
    return bool(high > 0 and x <= high * p[FLOOR_SHARE] * (3.0 if on else 1.0))


@njit(cache=True)
def _prior(
    recur: np.ndarray, recur_day: np.ndarray, r: int, h: int, today: int, p: Floats
) -> float:
    """Slot ``h``'s decayed count of past days with a flag, today's own flag left out."""
    last = recur_day[r, h]
    if last == today:
        return float(recur[r, h]) - 1.0
    return recur[r, h] * p[SCHEDULE_DECAY] ** (today - last) if last > 0 else 0.0


@njit(cache=True)
def recurrent(
    recur: np.ndarray, recur_day: np.ndarray, r: int, h: int, day: int, p: Floats
) -> bool:
    """Whether flags at hour ``h`` (or the hour either side) recurred on enough past days.

    Records today's flag in slot ``h``. The neighbours count too, because a job's effects
    wander by minutes across an hour's edge. Days are stored plus one, so that 0 means never
    (epoch day 0 is a real day offline).
    """
    today = day + 1
    prior = _prior(recur, recur_day, r, h, today, p)
    if recur_day[r, h] != today:
        recur[r, h] = prior + 1.0
        recur_day[r, h] = today
    around = max(
        _prior(recur, recur_day, r, (h + SLOTS - 1) % SLOTS, today, p),
        _prior(recur, recur_day, r, (h + 1) % SLOTS, today, p),
    )
    return bool(max(prior, around) >= p[SCHEDULE_MIN])


@compiled
def watch(
    drift: Floats,
    bias: Floats,
    fit: Floats,
    episode: np.ndarray,
    recur: np.ndarray,
    recur_day: np.ndarray,
    high: Floats,
    count: np.ndarray,
    rows: Index,
    bounds: np.ndarray,
    values: Floats,
    z: Floats,
    flagged: np.ndarray,
    at_s: float,
    interval_s: float,
    p: Floats,
    learn: bool,
) -> tuple[np.ndarray, Floats, Floats, Floats]:
    """Decide each series' reason (updating ``flagged`` in place); return reasons and ETAs (s).

    ``z`` is the level model's standardized residual (0 while it warms up).
    """
    n = len(rows)
    reason = np.zeros(n, dtype=np.int8)
    eta = np.full(n, np.inf)
    eta_low = np.full(n, np.inf)
    eta_high = np.full(n, np.inf)
    t_h = at_s / 3600.0
    slot = int((at_s % 86400.0) // 3600.0)
    day = int(at_s // 86400.0)
    decay = math.exp(-max(interval_s, 0.0) / 3600.0 / p[FIT_TAU_H])
    for i in range(n):
        r, x, bound = rows[i], values[i], bounds[i]
        why = SCORE if flagged[i] else NONE
        if not np.isfinite(x):
            reason[i] = why
            continue
        warm = count[r] > p[WARMUP]
        if learn and z[i] != 0.0 and why == SCORE:
            # Drift reports the changes the score misses: one it flags is no news. The test
            # leaves the episode out, and the level model's settling after it (its trend and
            # daily profile overshoot for a while after a fault ends, a bias that is not a
            # change), then resumes against the residuals it knew before the episode.
            ph_hold(drift[r], p[PH_SETTLE_S] / max(interval_s, 1.0))
        elif learn and z[i] != 0.0:
            zc = min(max(z[i], -p[PH_CLIP]), p[PH_CLIP])
            if drift[r, DETECTED] >= 0.0 and drift[r, N] >= 0.0:  # not held: the test looks
                _track_bias(bias, r, zc, p)
            if ph_update(drift[r], zc, p[PH_MIN], p[PH_DELTA], p[PH_THRESHOLD], p[PH_ALPHA], 3):
                # A change back toward the normal is the model recovering: the test restarts
                # (as after any detection) without an event.
                why = DRIFT if _departs(drift, bias, r, p) else why
        if bound > 0:
            if learn:
                _fit_update(fit, r, t_h, x, decay if fit[r, W] > 0 else 0.0)
            now, slope, se = _fitted(fit, r, t_h)
            e, lo, hi = _eta_h(now, slope, se, bound, p[SIGNIFICANCE])
            eta[i], eta_low[i], eta_high[i] = e * 3600.0, lo * 3600.0, hi * 3600.0
            settled = fit[r, W] >= 0.5 * p[FIT_TAU_H] * 3600.0 / max(interval_s, 1.0)
            soon = warm and settled and e <= p[HORIZON_H]
            if soon and not episode[r, FORECAST_ON]:
                why = FORECAST
            if learn:
                # Re-armed only once the exhaustion is well beyond the horizon again.
                episode[r, FORECAST_ON] = soon or (episode[r, FORECAST_ON] and e < 2 * p[HORIZON_H])
            # The fitted value, not the sample: noise around the bound is one episode, not many.
            full = warm and _saturated(now, bound, high[r], p, episode[r, SATURATED_ON])
            if full and not episode[r, SATURATED_ON]:
                why = SATURATED
            if learn:
                episode[r, SATURATED_ON] = full
        if why != NONE and why != SATURATED and recurrent(recur, recur_day, r, slot, day, p):
            why = NONE
            if learn:
                # A scheduled change is a known one, and what follows it the series' new normal
                # (a disk after its nightly rotation): the drift test starts afresh after it.
                # Held instead, it would compare the next hours with the day before and report
                # the change (eval drift, 30 hosts: 0.62 false events per host-day, not 0.09).
                ph_reset(drift[r])
            if bound > 0 and learn:
                episode[r, FORECAST_ON] = False  # retried once outside the learned slot
        reason[i] = why
        flagged[i] = why != NONE
    return reason, eta, eta_low, eta_high
