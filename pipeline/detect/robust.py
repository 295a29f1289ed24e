"""Per-series model: robust Holt-Winters level/trend/daily season with a MAD scale.

Every series of a host is one row of a few NumPy arrays; one batch is scored and learned in one
compiled pass over its rows (:mod:`pipeline.detect.series_kernel`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.detect import series_kernel as kernel
from pipeline.detect import series_watch as watch
from pipeline.detect.bounds import bounds_of
from pipeline.detect.series_pass import score_watch_rank
from pipeline.detect.series_table import SeriesArrays

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
    # Drift: Page-Hinkley on the standardized residual, clipped at 3 like the level's Huber
    # updates. delta tolerates a bias of half a typical deviation; white noise (sd ~1.25 in these
    # units) crosses threshold 30 about once in exp(2 * 0.5 * 30 / 1.25**2) * 3 ~ 7e8 samples,
    # while a bias of one deviation is found in 30 / (1 - 0.5) = 60. alpha and min_instances are
    # River's defaults. A detection is reported only when the residual's recent level (over
    # min_instances values) is beyond its long-run normal (over the test's memory, 1/(1-alpha)
    # values) by more than delta on the side detected: no new setting.
    drift_delta: float = 0.5
    drift_threshold: float = 30.0
    drift_alpha: float = 1 - 0.0001
    drift_min_instances: int = 30
    drift_clip: float = 3.0
    # After the score flags a series, its drift test skips this long (keeping its statistics)
    # before it resumes: the level model's trend and daily profile overshoot for up to ~20
    # minutes after a fault ends (the demo's 30-minute faults), a bias it would report.
    drift_settle_s: float = 3600.0
    # Capacity forecast: a fit over the last half hour (a twelfth of the horizon: a 12 %/h leak
    # fills 6 points in that time, while 1-min noise of 0.6 points gives a slope error of ~0.2
    # points/h), an event when the bound is within the horizon at two standard errors of slope.
    forecast_tau_s: float = 1800.0
    forecast_horizon_s: float = 21_600.0
    forecast_significance: float = 2.0
    # At the bound: within 1 point of 100 %, or under 1 % of the largest free amount seen.
    ceiling_margin: float = 1.0
    floor_share: float = 0.01
    # Schedules: a flag at an hour of day seen on two recent days (counts fade 10 %/day) is
    # held back: a daily job alarms twice, then no more.
    schedule_decay: float = 0.9
    schedule_min: float = 1.5

    def __post_init__(self) -> None:
        if self.warmup < 1 or self.season_bins < 1:
            raise ValueError("warmup and season_bins must be >= 1")
        if not self.season_step_s > 0:
            raise ValueError(f"season_step_s must be > 0, got {self.season_step_s}")
        for name in ("alpha_level", "alpha_season", "alpha_scale", "quantile", "min_threshold"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)}")

    @cached_property
    def vector(self) -> Floats:
        """The knobs the compiled kernel reads, at the positions it names."""
        p = np.zeros(kernel.N_PARAMS)
        p[kernel.WARMUP], p[kernel.NOVELTY_WARMUP] = self.warmup, self.novelty_warmup
        p[kernel.ALPHA_LEVEL], p[kernel.ALPHA_TREND] = self.alpha_level, self.alpha_trend
        p[kernel.TREND_DAMPING], p[kernel.ALPHA_SCALE] = self.trend_damping, self.alpha_scale
        p[kernel.HUBER], p[kernel.SCALE_CLIP] = self.huber, self.scale_clip
        p[kernel.SCORE_K], p[kernel.ZQ_LEVEL] = self.score_k, self.zq_level
        p[kernel.ZQ_RATE], p[kernel.ZQ_FLOOR], p[kernel.ZQ_PRIOR] = (
            self.zq_rate,
            self.zq_floor,
            self.zq_prior,
        )
        p[kernel.QUANTILE], p[kernel.QUANTILE_RATE] = self.quantile, self.quantile_rate
        p[kernel.MIN_THRESHOLD], p[kernel.HYSTERESIS] = self.min_threshold, self.hysteresis
        p[kernel.NOVELTY_K], p[kernel.NOVELTY_FORGET] = self.novelty_k, self.novelty_forget
        return p

    @cached_property
    def watch_vector(self) -> Floats:
        """The knobs of the decision pass (:mod:`pipeline.detect.series_watch`)."""
        p = np.zeros(watch.N_WATCH_PARAMS)
        p[watch.PH_DELTA], p[watch.PH_THRESHOLD] = self.drift_delta, self.drift_threshold
        p[watch.PH_ALPHA], p[watch.PH_MIN] = self.drift_alpha, self.drift_min_instances
        p[watch.FIT_TAU_H] = self.forecast_tau_s / 3600.0
        p[watch.HORIZON_H] = self.forecast_horizon_s / 3600.0
        p[watch.SIGNIFICANCE] = self.forecast_significance
        p[watch.CEILING_MARGIN], p[watch.FLOOR_SHARE] = self.ceiling_margin, self.floor_share
        p[watch.SCHEDULE_DECAY], p[watch.SCHEDULE_MIN] = self.schedule_decay, self.schedule_min
        p[watch.WARMUP], p[watch.PH_CLIP] = self.warmup, self.drift_clip
        p[watch.PH_SETTLE_S] = self.drift_settle_s
        return p

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
    return state | watch.empty_watch(rows)


def migrate_state(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copies of restored state arrays; a range missing (older snapshots) is level ± 3 scales.

    Snapshots from before the decision pass (v1-v3) start its state afresh.
    """
    state = {name: array.copy() for name, array in state.items()}
    if "low" not in state:
        state["low"] = state["level"] - 3.0 * state["scale"]
        state["high"] = state["level"] + 3.0 * state["scale"]
    if "drift" not in state:
        state |= watch.empty_watch(len(state["count"]))
    if "bias" not in state:  # v5 snapshots: the residual's normal is learned afresh
        state["bias"] = watch.empty_watch(len(state["count"]))["bias"]
    missing = set(STATE_FIELDS) - set(state)
    if missing:
        raise ValueError(f"series state lacks {', '.join(sorted(missing))}")
    # The compiled kernel is specialised by dtype: keep every array at its fresh dtype.
    fresh = empty_state(0, SeriesParams())
    return {
        name: np.ascontiguousarray(state[name], dtype=fresh[name].dtype)
        for name in (*STATE_FIELDS, *watch.WATCH_FIELDS)
    }


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
    at_s: float,
    params: SeriesParams,
    learn: bool,
    interval_s: float,
    deviation: Floats | None = None,
    rank: tuple[float, float] = (0.1, 10.0),
    long_run: tuple[Floats, Floats, Floats, float, int] | None = None,
) -> tuple[SeriesArrays, Floats, float, Floats]:
    """Score ``values`` (one per row ``index``, named ``names``) and, when ``learn``, update them.

    ``interval_s`` is the time since the host's previous sample; it sets how fast the daily
    profile learns (0: not at all). Each series' contribution is its ``|z|`` clipped at
    ``rank[1]`` and averaged at rate ``rank[0]`` in ``deviation`` (one per row); the long-run
    standardization reads and learns ``long_run``. Either, when not given, starts from nothing
    and is not kept.

    Returns the per-series results, each series' signed residual in units of its scale (0 where
    not scored), the top of score plus novelty (twice the host's series score) and the values
    standardized by ``long_run`` (:meth:`pipeline.detect.standardize.LongRunScaler.arrays`).
    """
    index = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
    size = len(state["count"])
    if deviation is None:
        deviation = np.zeros(size)
    if long_run is None:
        long_run = (np.zeros(size), np.zeros(size), np.zeros(size), 0.001, params.warmup)
    a_season = params.season_alpha(interval_s) * (1.0 - params.alpha_level)
    # The kernel takes each state array as a parameter; mypy cannot count an unpacked list.
    series_state: list[Any] = [state[name] for name in STATE_FIELDS]
    watch_state: list[Any] = [state[name] for name in watch.WATCH_FIELDS]
    results = score_watch_rank(  # type: ignore[call-arg]
        *series_state,
        *watch_state,
        deviation,
        index.astype(np.intp, copy=False),
        season_bin(at_s, params),
        bounds_of(names),
        np.ascontiguousarray(values, dtype=np.float64),
        params.vector,
        params.watch_vector,
        learn,
        a_season,
        at_s,
        interval_s,
        *rank,
        long_run,
    )
    score, flagged, expected, threshold, scale_eff, surprise, novelty, z = results[:8]
    reason, eta_s, eta_low_s, eta_high_s, contribution, top, standardized = results[8:]
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
        score_k=params.score_k,
        reason=reason,
        eta_s=eta_s,
        eta_low_s=eta_low_s,
        eta_high_s=eta_high_s,
        contribution=contribution,
    )
    return arrays, z, top, standardized
