"""Vectorised per-series model: robust Holt-Winters level/trend/daily season with a MAD scale.

Every series of a host is one row of a few NumPy arrays, so one batch is scored and learned with a
fixed number of array operations whatever the number of metrics.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.detect.novelty import learn_range, novelty_score
from pipeline.detect.series_table import SeriesArrays
from pipeline.detect.threshold import calibrate, flag_with_hysteresis

Floats = npt.NDArray[np.float64]
Rows = npt.NDArray[np.intp] | slice

STATE_FIELDS = ("count", "level", "trend", "scale", "zq", "quantile", "on", "season", "low", "high")


@dataclass(frozen=True)
class SeriesParams:
    """Knobs of the per-series model; one configuration serves every series."""

    warmup: int = 30
    alpha_level: float = 0.05
    alpha_trend: float = 0.002
    trend_damping: float = 0.98
    # The daily profile learns alpha_season per season_step_s of data, at most that per sample:
    # per sample alone, 10 s samples would re-learn a bin within its hour and mirror the level.
    alpha_season: float = 0.05
    season_step_s: float = 300.0
    season_bins: int = 24
    season_period_s: float = 86_400.0
    alpha_scale: float = 0.02
    huber: float = 3.0
    scale_clip: float = 6.0
    score_k: float = 3.0
    zq_level: float = 0.99
    zq_rate: float = 0.05
    zq_floor: float = 0.5
    zq_prior: float = 1.5
    quantile: float = 0.995
    quantile_rate: float = 0.02
    min_threshold: float = 0.7
    hysteresis: float = 0.15
    novelty_k: float = 0.05
    novelty_forget: float = 1e-5
    # A range of n samples is beaten by about 2/n of ordinary ones: young ranges say little.
    novelty_warmup: int = 120

    def __post_init__(self) -> None:
        if self.warmup < 1 or self.season_bins < 1:
            raise ValueError("warmup and season_bins must be >= 1")
        if not self.season_step_s > 0:
            raise ValueError(f"season_step_s must be > 0, got {self.season_step_s}")
        for name in ("alpha_level", "alpha_season", "alpha_scale", "quantile", "min_threshold"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)}")

    @property
    def steady_count(self) -> int:
        """Samples after which every warm-start rate has given way to its fixed rate."""
        return max(
            self.warmup, math.ceil(1.0 / self.alpha_level), math.ceil(1.0 / self.alpha_scale), 2
        )

    def season_alpha(self, interval_s: float) -> float:
        """Per-sample rate of the daily profile for samples ``interval_s`` apart.

        Examples
        --------
        >>> params = SeriesParams()
        >>> [round(params.season_alpha(s), 4) for s in (3600.0, 300.0, 30.0, 10.0)]
        [0.05, 0.05, 0.005, 0.0017]
        """
        share = min(max(interval_s, 0.0) / self.season_step_s, 1.0)
        return self.alpha_season * share

    def as_dict(self) -> dict[str, float | int]:
        """Plain values, for snapshots."""
        return asdict(self)


def empty_state(rows: int, params: SeriesParams) -> dict[str, np.ndarray]:
    """Fresh state arrays for ``rows`` series."""
    floats = ("level", "trend", "scale", "zq", "quantile", "low", "high")
    state = {name: np.zeros(rows) for name in floats}
    state["count"] = np.zeros(rows, dtype=np.int64)
    state["on"] = np.zeros(rows, dtype=np.bool_)
    state["season"] = np.zeros((rows, params.season_bins))
    return state


def migrate_state(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copies of restored state arrays; a range missing (older snapshots) is level ± 3 scales."""
    state = {name: array.copy() for name, array in state.items()}
    if "low" not in state:
        state["low"] = state["level"] - 3.0 * state["scale"]
        state["high"] = state["level"] + 3.0 * state["scale"]
    missing = set(STATE_FIELDS) - set(state)
    if missing:
        raise ValueError(f"series state lacks {', '.join(sorted(missing))}")
    return {name: state[name] for name in STATE_FIELDS}


def grow(state: dict[str, np.ndarray], rows: int, params: SeriesParams) -> dict[str, np.ndarray]:
    """State with at least ``rows`` rows, existing rows kept (capacity doubles)."""
    have = len(state["count"])
    if rows <= have:
        return state
    bigger = empty_state(max(rows, 2 * have, 8), params)
    for name, array in state.items():
        bigger[name][:have] = array
    return bigger


def reset_rows(state: dict[str, np.ndarray], rows: npt.NDArray[np.intp]) -> None:
    """Forget the series in ``rows`` (new or evicted metrics)."""
    for array in state.values():
        array[rows] = 0


def season_bin(at_s: float | Floats, params: SeriesParams) -> Any:
    """Which bin of the daily profile a timestamp (epoch seconds, or one per row) falls in."""
    if isinstance(at_s, float):  # the streaming case: plain arithmetic is ~10x cheaper
        phase_s = at_s % params.season_period_s
        return min(
            int(phase_s / params.season_period_s * params.season_bins), params.season_bins - 1
        )
    phase = (np.asarray(at_s) % params.season_period_s) / params.season_period_s
    bins = np.minimum((phase * params.season_bins).astype(np.intp), params.season_bins - 1)
    return int(bins) if bins.ndim == 0 else bins


def process(
    state: dict[str, np.ndarray],
    rows: Rows,
    names: tuple[str, ...],
    values: Floats,
    at_s: float | Floats,
    params: SeriesParams,
    learn: bool,
    interval_s: float = 0.0,
) -> tuple[SeriesArrays, Floats]:
    """Score ``values`` (one per row, named ``names``) and, when ``learn``, update the rows.

    ``interval_s`` is the time since the host's previous sample; it sets how fast the daily
    profile learns (0: not at all).

    Returns the per-series results and each series' signed residual in units of its scale
    (0 where not scored), the host model's input.
    """
    p = params
    ok = np.isfinite(values)
    b = season_bin(at_s, p)
    count, level, trend = state["count"][rows], state["level"][rows], state["trend"][rows]
    scale = state["scale"][rows]
    season = state["season"][rows, b] if np.ndim(b) == 0 else state["season"][_span(rows, b), b]
    expected = level + p.trend_damping * trend + season
    floor = 1e-9 + 1e-6 * np.abs(level)
    scale_eff = np.maximum(scale, floor)
    residual = np.where(ok, values - expected, 0.0)
    z = residual / scale_eff
    warm = ok & (count >= p.warmup)
    az = np.abs(z)
    zq = state["zq"][rows]
    surprise = np.maximum(zq, p.zq_floor)
    ratio = az / surprise
    score = np.where(warm, ratio / (ratio + p.score_k), 0.0)
    threshold = np.maximum(state["quantile"][rows], p.min_threshold)
    flagged = flag_with_hysteresis(score, threshold, state["on"][rows], p.hysteresis) & warm
    novelty = novelty_score(
        state["low"][rows],
        state["high"][rows],
        values,
        level,
        ok & (count >= p.novelty_warmup),
        p.novelty_k,
    )
    arrays = SeriesArrays(
        names=names,
        score=score,
        flagged=flagged,
        observed=values,
        expected=expected,
        threshold=threshold,
        scale=scale_eff,
        surprise=surprise,
        novelty=novelty,
        score_k=p.score_k,
    )
    if learn:
        # With a slice, the gathered arrays are views: `_learn` must run last.
        # The series' own typical surprise: a streaming quantile of |z| with a relative step.
        # Steady batches (every value finite, every series past all warm-starts) are the common
        # case and skip the masks: the same arithmetic in about half the array operations.
        steady = len(count) > 0 and bool(ok.all()) and int(count.min()) >= p.steady_count
        step = p.zq_rate * surprise
        zq_next = zq + step * np.where(az > zq, p.zq_level, p.zq_level - 1.0)
        quantile = calibrate(state["quantile"][rows], score, p.quantile, p.quantile_rate)
        if not steady:
            # A new series' typical surprise starts at a Gaussian's (99 % of |z| in units of the
            # mean absolute deviation is ~3.2), not at 0: climbing from 0 takes a few hundred
            # samples, and until then every ordinary sample looks surprising.
            zq_next = np.where(count == 0, p.zq_prior, np.where(count > 1, zq_next, zq))
            zq_next = np.where(ok, zq_next, zq)
        state["zq"][rows] = zq_next
        state["quantile"][rows] = quantile if steady else np.where(warm, quantile, 0.0)
        state["on"][rows] = flagged
        first = None if steady else count == 0
        learn_range(state, rows, ok, values, expected, first, p.novelty_forget)
        a_season = p.season_alpha(interval_s) * (1.0 - p.alpha_level)
        if steady:
            _learn_steady(state, rows, residual, scale_eff, b, a_season, p)
        else:
            _learn(state, rows, ok, residual, scale_eff, count, b, a_season, p)
    return arrays, np.where(warm, z, 0.0)


def _learn(
    state: dict[str, np.ndarray],
    rows: Rows,
    ok: npt.NDArray[np.bool_],
    residual: Floats,
    scale_eff: Floats,
    count: npt.NDArray[np.int64],
    b: Any,
    a_season: float,
    p: SeriesParams,
) -> None:
    """Error-correction Holt-Winters update with Huber-clipped residuals; NaN rows untouched."""
    warming = count < p.warmup
    # Running mean/MAD while warming up (1/n weights), exponential forgetting afterwards.
    weight = 1.0 / (count + 1.0)
    a_level = np.where(ok, np.maximum(p.alpha_level, weight), 0.0)
    # The first residual is against an empty level, so the scale starts from the second one.
    a_scale = np.where(ok & (count > 0), np.maximum(p.alpha_scale, 1.0 / np.maximum(count, 1)), 0.0)
    limit = np.where(warming, np.inf, p.huber * scale_eff)
    clipped = np.clip(residual, -limit, limit)
    trend = state["trend"][rows]
    state["level"][rows] += p.trend_damping * trend * ok + a_level * clipped
    # The first residual is against an empty level, not a change of it: no trend from it.
    learns_trend = ok & (count > 0)
    state["trend"][rows] = np.where(
        learns_trend, p.trend_damping * trend + p.alpha_trend * clipped, trend
    )
    seasonal = np.where(warming | ~ok, 0.0, a_season * clipped)
    if np.ndim(b) == 0:
        state["season"][rows, b] += seasonal
    else:
        state["season"][_span(rows, b), b] += seasonal
    deviation = np.minimum(np.abs(residual), np.where(warming, np.inf, p.scale_clip * scale_eff))
    scale = state["scale"][rows]
    state["scale"][rows] = scale + a_scale * (deviation - scale)
    state["count"][rows] = count + ok


def _learn_steady(
    state: dict[str, np.ndarray],
    rows: Rows,
    residual: Floats,
    scale_eff: Floats,
    b: Any,
    a_season: float,
    p: SeriesParams,
) -> None:
    """:func:`_learn` when every row is finite and past ``p.steady_count`` samples."""
    limit = p.huber * scale_eff
    clipped = np.clip(residual, -limit, limit)
    trend = state["trend"][rows]
    state["level"][rows] += p.trend_damping * trend + p.alpha_level * clipped
    state["trend"][rows] = p.trend_damping * trend + p.alpha_trend * clipped
    seasonal = a_season * clipped
    if np.ndim(b) == 0:
        state["season"][rows, b] += seasonal
    else:
        state["season"][_span(rows, b), b] += seasonal
    deviation = np.minimum(np.abs(residual), p.scale_clip * scale_eff)
    scale = state["scale"][rows]
    state["scale"][rows] = scale + p.alpha_scale * (deviation - scale)
    state["count"][rows] += 1


def _span(rows: Rows, b: Any) -> Any:
    """Row indices matching a per-row bin array (offline runs with one timestamp per series)."""
    return np.arange(len(b)) if isinstance(rows, slice) else rows
