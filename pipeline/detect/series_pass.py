"""A host's batch through every per-series stage in one compiled call.

The level model (:mod:`pipeline.detect.series_kernel`), the decision pass
(:mod:`pipeline.detect.series_watch`), each series' contribution to the host score and its value
against its long-run spread (:mod:`pipeline.detect.standardize`) are compiled loops over the
same rows; called one by one from Python, each paid for its own
dispatch, its argument checks and the arrays it handed back, which cost more than the
arithmetic of a 128-series batch. Here they run back to back inside one compiled call.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.detect.series_kernel import compiled, score_and_learn
from pipeline.detect.series_watch import watch
from pipeline.detect.standardize import standardize

Floats = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]
Reasons = npt.NDArray[np.int8]
Results = tuple[
    Floats, Bools, Floats, Floats, Floats, Floats, Floats, Floats,
    Reasons, Floats, Floats, Floats, Floats, float, Floats,
]  # fmt: skip
LongRun = tuple[Floats, Floats, Floats, float, int]


@compiled
def score_watch_rank(
    count: npt.NDArray[np.int64],
    level: Floats,
    trend: Floats,
    scale: Floats,
    zq: Floats,
    quantile: Floats,
    on: Bools,
    season: Floats,
    low: Floats,
    high: Floats,
    drift: Floats,
    bias: Floats,
    fit: Floats,
    episode: Bools,
    recur: npt.NDArray[np.float32],
    recur_day: npt.NDArray[np.int32],
    deviation: Floats,
    rows: Index,
    season_bin: int,
    bounds: Reasons,
    values: Floats,
    p: Floats,
    p_watch: Floats,
    learn: bool,
    a_season: float,
    at_s: float,
    interval_s: float,
    rank_alpha: float,
    rank_clip: float,
    long_run: LongRun,
) -> Results:
    """Score, decide and rank one batch (row ``rows[i]`` holds ``values[i]``).

    Returns score, flagged, expected, threshold, effective scale, surprise, novelty, the
    residual in units of scale, reason, ETA with its interval (s), contribution (each series'
    ``|z|`` clipped at ``rank_clip``, averaged at ``rank_alpha`` in ``deviation``), the top of
    score plus novelty over the batch and the values standardized by ``long_run`` (the
    arguments of :func:`pipeline.detect.standardize.standardize` after the rows and values).
    """
    bins = np.full(len(rows), season_bin, dtype=np.intp)
    score, flagged, expected, threshold, scale_eff, surprise, novelty, z = score_and_learn(
        count, level, trend, scale, zq, quantile, on, season, low, high,
        rows, bins, values, p, learn, a_season,
    )  # fmt: skip
    reason, eta_s, eta_low_s, eta_high_s = watch(
        drift, bias, fit, episode, recur, recur_day, high, count,
        rows, bounds, values, z, flagged, at_s, interval_s, p_watch, learn,
    )  # fmt: skip
    contribution = np.empty(len(rows))
    top = 0.0
    for i in range(len(rows)):
        before = deviation[rows[i]]
        contribution[i] = before + rank_alpha * (min(abs(z[i]), rank_clip) - before)
        if learn:
            deviation[rows[i]] = contribution[i]
        top = max(top, score[i] + novelty[i])
    mean, var, seen, alpha, warmup = long_run
    standardized = standardize(mean, var, seen, rows, values, alpha, warmup, learn)
    return (
        score, flagged, expected, threshold, scale_eff, surprise, novelty, z,
        reason, eta_s, eta_low_s, eta_high_s, contribution, top, standardized,
    )  # fmt: skip
