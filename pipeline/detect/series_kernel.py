"""The per-series model's arithmetic as one compiled loop over a host's series (numba).

A batch of a host's metrics used to take ~100 NumPy calls of a few hundred elements each, so
the calls' own overhead (about a microsecond each) cost more than the arithmetic; one compiled
pass over the rows does the same arithmetic, in the same order, in a few microseconds.

Per series: a robust Holt-Winters model (level, damped trend, daily profile, MAD scale) with
Huber-clipped updates; the score is the absolute residual over the series' own typical surprise
(a streaming quantile of ``|z|``), squashed to [0, 1); its threshold is a streaming quantile of
its own scores, with hysteresis. Novelty is how far a value falls outside the range its series
has taken so far (low/high relax very slowly toward the expected value, so one wild sample does
not hide every later one), in units of the range's width: a level never seen before is the
clearest sign of a new situation, a repeat of a familiar spike is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]
F = TypeVar("F", bound=Callable[..., Any])


def compiled(function: F) -> F:
    """``function`` compiled by numba (cached on disk), typed as itself for its callers.

    numba's ``Dispatcher`` hides the signature from type checkers; the compiled function takes
    and returns the same types as the Python one.
    """
    return cast(F, njit(cache=True)(function))


# Positions in the parameter vector handed to the kernel (numba takes arrays, not dataclasses).
(
    WARMUP,
    ALPHA_LEVEL,
    ALPHA_TREND,
    TREND_DAMPING,
    ALPHA_SCALE,
    HUBER,
    SCALE_CLIP,
    SCORE_K,
    ZQ_LEVEL,
    ZQ_RATE,
    ZQ_FLOOR,
    ZQ_PRIOR,
    QUANTILE,
    QUANTILE_RATE,
    MIN_THRESHOLD,
    HYSTERESIS,
    NOVELTY_K,
    NOVELTY_FORGET,
    NOVELTY_WARMUP,
    N_PARAMS,
) = range(20)


@compiled
def score_and_learn(
    count: npt.NDArray[np.int64],
    level: Floats,
    trend: Floats,
    scale: Floats,
    zq: Floats,
    quantile: Floats,
    on: npt.NDArray[np.bool_],
    season: Floats,
    low: Floats,
    high: Floats,
    rows: Index,
    bins: Index,
    values: Floats,
    p: Floats,
    learn: bool,
    a_season: float,
) -> tuple[Floats, npt.NDArray[np.bool_], Floats, Floats, Floats, Floats, Floats, Floats]:
    """Score ``values`` (row ``rows[i]``, daily bin ``bins[i]``) and, when ``learn``, update rows.

    Returns score, flagged, expected, threshold, effective scale, surprise, novelty and the
    residual in units of scale (0 where not warm), one per value.
    """
    n = len(rows)
    score = np.zeros(n)
    flagged = np.zeros(n, dtype=np.bool_)
    expected = np.empty(n)
    threshold = np.empty(n)
    scale_eff = np.empty(n)
    surprise = np.empty(n)
    novelty = np.zeros(n)
    z_warm = np.zeros(n)
    for i in range(n):
        r, b, x = rows[i], bins[i], values[i]
        ok = np.isfinite(x)
        c = count[r]
        lv, tr, sc, zq_r, q_r = level[r], trend[r], scale[r], zq[r], quantile[r]
        lo, hi = low[r], high[r]
        exp_i = lv + p[TREND_DAMPING] * tr + season[r, b]
        floor = 1e-9 + 1e-6 * abs(lv)
        sce = max(sc, floor)
        residual = x - exp_i if ok else 0.0
        z = residual / sce
        warm = ok and c >= p[WARMUP]
        az = abs(z)
        sur = max(zq_r, p[ZQ_FLOOR])
        ratio = az / sur
        s = ratio / (ratio + p[SCORE_K]) if warm else 0.0
        thr = max(q_r, p[MIN_THRESHOLD])
        flag = (s >= thr * (1.0 - p[HYSTERESIS]) if on[r] else s >= thr) and warm
        if ok and c >= p[NOVELTY_WARMUP]:
            width = max(hi - lo, 1e-9 + 1e-6 * abs(lv))
            outside = min(max(max(x - hi, lo - x), 0.0) / width, 1e12)
            novelty[i] = outside / (outside + p[NOVELTY_K])
        score[i], flagged[i], expected[i], threshold[i] = s, flag, exp_i, thr
        scale_eff[i], surprise[i] = sce, sur
        if warm:
            z_warm[i] = z
        if not learn:
            continue
        # Typical surprise: a streaming quantile of |z| with a relative step; a new series'
        # starts at a Gaussian's (~3.2 mean absolute deviations hold 99 %), not at 0.
        step = p[ZQ_RATE] * sur
        zq_next = zq_r + step * (p[ZQ_LEVEL] if az > zq_r else p[ZQ_LEVEL] - 1.0)
        if c == 0:
            zq_next = p[ZQ_PRIOR]
        elif c <= 1:
            zq_next = zq_r
        zq[r] = zq_next if ok else zq_r
        q_next = q_r + p[QUANTILE_RATE] * (p[QUANTILE] if s > q_r else p[QUANTILE] - 1.0)
        quantile[r] = q_next if warm else 0.0
        on[r] = flag
        if ok:
            relaxed_high = x if c == 0 else hi - p[NOVELTY_FORGET] * (hi - exp_i)
            relaxed_low = x if c == 0 else lo + p[NOVELTY_FORGET] * (exp_i - lo)
            high[r] = max(x, relaxed_high)
            low[r] = min(x, relaxed_low)
        # Error-correction Holt-Winters with Huber-clipped residuals; running mean/MAD while
        # warming up (1/n weights), exponential forgetting afterwards.
        warming = c < p[WARMUP]
        okf = 1.0 if ok else 0.0
        a_level = max(p[ALPHA_LEVEL], 1.0 / (c + 1.0)) if ok else 0.0
        # The first residual is against an empty level: no scale or trend from it.
        a_scale = max(p[ALPHA_SCALE], 1.0 / max(c, 1)) if ok and c > 0 else 0.0
        limit = np.inf if warming else p[HUBER] * sce
        clipped = min(max(residual, -limit), limit)
        level[r] = lv + (p[TREND_DAMPING] * tr * okf + a_level * clipped)
        if ok and c > 0:
            trend[r] = p[TREND_DAMPING] * tr + p[ALPHA_TREND] * clipped
        if not (warming or not ok):
            season[r, b] = season[r, b] + a_season * clipped
        deviation = min(abs(residual), np.inf if warming else p[SCALE_CLIP] * sce)
        scale[r] = sc + a_scale * (deviation - sc)
        count[r] = c + (1 if ok else 0)
    return score, flagged, expected, threshold, scale_eff, surprise, novelty, z_warm
