"""The default host detector: robust per-series models plus a residual covariance per host."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from river.base import AnomalyDetector

from pipeline.detect import robust
from pipeline.detect.base import HostScore
from pipeline.detect.covariance import ResidualCovariance
from pipeline.detect.schedule import HourSlots
from pipeline.detect.series_table import SeriesTable
from pipeline.detect.slots import SlotMap
from pipeline.detect.snapshot import decode_snapshot, encode_snapshot
from pipeline.detect.standardize import LongRunScaler
from pipeline.detect.threshold import OnsetThreshold, flag_with_hysteresis

KIND = "default"
# v4: the series decision pass (drift, forecast, schedules) has state; v5: contributions and
# the long-run standardization of the host model's input.
STATE_VERSION = 5
READABLE_VERSIONS = (1, 2, 3, 4, 5)  # older ones are migrated in restore()
SERIES_DETECTOR = "robust_hw"
HOST_DETECTOR = "mahalanobis"
# Slots of the host state array.
THRESHOLD, FLAG_ON, LAST_AT, SUSTAINED, BLOCK_MAX, PREVIOUS_MAX, BLOCK_LENGTH = range(7)


class RobustHostDetector(AnomalyDetector):
    """Scores a host's metric dict: every series on its own, and the host vector as a whole.

    Each series has a robust Holt-Winters model (level, damped trend, daily profile, MAD scale,
    Huber-clipped updates so outliers and level shifts do not poison it). The host vector of
    values standardized by their long-run mean and spread feeds a streaming Mahalanobis
    distance, which catches joint deviations and broken relationships between series. The
    instantaneous host score is the larger of the top series score and the distance's score;
    from it come two figures:

    - ``score``, the sustained host score: an exponential average of the instantaneous score, so
      it stays high while a host misbehaves (what the worker writes as the host's score series);
    - ``onset``, the instantaneous score only when it beats every score of the last one to two
      ``onset_block`` samples, else 0: one alert per episode. ``flagged`` compares it with a
      threshold set by an alarm budget in time (no labels), with hysteresis.

    Parameters
    ----------
    max_series
        Series kept per host; the least recently seen is evicted beyond it.
    n_features
        Length of the residual vector of the covariance model (series are folded onto it).
    cov_alpha, cov_shrinkage
        Forgetting rate and diagonal shrinkage of the residual covariance.
    sustain_alpha
        Weight of the newest instantaneous score in the sustained score.
    onset_block
        Block length of the onset rule (0 reports every instantaneous score as an onset).
    alert_budget_per_day
        Host alerts an ordinary host may raise a day: sets the alert threshold
        (:class:`pipeline.detect.threshold.OnsetThreshold`). One in ten days: about the rate at
        which a server has a real incident, so that noise does not outnumber them.
    series_params
        Overrides of :class:`pipeline.detect.robust.SeriesParams` fields.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> det = RobustHostDetector()
    >>> for i in range(300):
    ...     _ = det.process_one({"cpu.usage_user": 20.0 + i % 5}, t0 + timedelta(seconds=10 * i))
    >>> det.process_one({"cpu.usage_user": 95.0}, t0 + timedelta(seconds=3000)).flagged
    True
    """

    def __init__(
        self,
        max_series: int = 4096,
        n_features: int = 32,
        cov_alpha: float = 0.001,
        cov_shrinkage: float = 0.05,
        sustain_alpha: float = 0.1,
        onset_block: int = 250,
        alert_budget_per_day: float = 0.1,
        **series_params: Any,
    ) -> None:
        if not 0.0 < sustain_alpha <= 1.0:
            raise ValueError(f"sustain_alpha must be in (0, 1], got {sustain_alpha}")
        self.max_series = max_series
        self.n_features = n_features
        self.cov_alpha = cov_alpha
        self.cov_shrinkage = cov_shrinkage
        self.sustain_alpha = sustain_alpha
        self.onset_block = onset_block
        self.alert_budget_per_day = alert_budget_per_day
        self.series_params = series_params
        self.params = robust.SeriesParams(**series_params)
        self.slots = SlotMap(max_series)
        self.state = robust.empty_state(0, self.params)
        self.covariance = ResidualCovariance(n_features, cov_alpha, cov_shrinkage)
        # The joint model's input: values against their long-run spread, over its own horizon.
        self.scaler = LongRunScaler(cov_alpha, self.params.warmup)
        self.host = np.zeros(7)
        self.schedule = HourSlots(self.params.watch_vector)
        self.alert_threshold = OnsetThreshold(alert_budget_per_day)
        # Per series: |z| averaged at the sustained score's rate, the contributor ranking.
        self.deviation = np.zeros(0)
        self.step = 0
        self._keys: tuple[str, ...] = ()
        self._rows: robust.Rows = slice(0, 0)
        self._index = np.zeros(0, dtype=np.intp)  # the same rows as an index array
        self._fold = np.zeros(0, dtype=np.intp)

    def _get_params(self) -> dict[str, Any]:
        names = (
            *("max_series", "n_features", "cov_alpha", "cov_shrinkage", "sustain_alpha"),
            *("onset_block", "alert_budget_per_day"),
        )
        return {k: getattr(self, k) for k in names} | self.series_params

    def process_one(self, metrics: dict[str, float], at: datetime) -> HostScore:
        """Score ``metrics`` sampled at ``at``, then learn them (NaN/inf are never learned)."""
        self.step += 1
        self._route(tuple(metrics))
        return self._evaluate(
            self._rows, self._index, self._keys, metrics, at.timestamp(), learn=True
        )

    # River types ``x`` as dict[Hashable, Any]; a host's metrics are named by str (dict is
    # invariant, so the narrower key type is an override mypy refuses).
    def learn_one(self, x: dict[str, Any], at: datetime | None = None) -> None:  # type: ignore[override]
        """River API: learn one metric dict (``at`` defaults to the last sample time)."""
        self.step += 1
        self._route(tuple(x))
        at_s = at.timestamp() if at else float(self.host[LAST_AT])
        self._evaluate(self._rows, self._index, self._keys, x, at_s, learn=True)

    def score_one(self, x: dict[str, Any], at: datetime | None = None) -> float:  # type: ignore[override]
        """River API: the sustained host score of ``x`` without learning it."""
        known = tuple(k for k in x if k in self.slots.position)
        rows = np.array([self.slots.position[k] for k in known], dtype=np.intp)
        at_s = at.timestamp() if at else float(self.host[LAST_AT])
        return self._evaluate(rows, rows, known, {k: x[k] for k in known}, at_s, False).score

    def _route(self, keys: tuple[str, ...]) -> None:
        """Rows of this batch's metrics; cached while a host keeps sending the same keys."""
        if keys == self._keys:
            self.slots.touch(self._rows, self.step)  # type: ignore[arg-type]  # slice or rows
            return
        rows, fresh = self.slots.assign(keys, self.step)
        self.state = robust.grow(self.state, len(self.slots.names), self.params)
        robust.reset_rows(self.state, fresh)
        self.deviation = _grown(self.deviation, len(self.state["count"]))
        self.deviation[fresh] = 0.0
        self.scaler.grow(len(self.state["count"]))
        self.scaler.reset(fresh)
        contiguous = np.array_equal(rows, np.arange(len(rows)))
        self._keys, self._rows = keys, slice(0, len(rows)) if contiguous else rows
        self._index = rows
        self._fold = rows % self.n_features

    def _evaluate(
        self,
        rows: robust.Rows,
        index: npt.NDArray[np.intp],
        keys: tuple[str, ...],
        metrics: dict[str, Any],
        at_s: float,
        learn: bool,
    ) -> HostScore:
        values = np.fromiter(metrics.values(), dtype=np.float64, count=len(keys))
        last_at = float(self.host[LAST_AT])
        interval_s = at_s - last_at if last_at > 0 else 0.0
        # Each series' contribution is ranked over the span of the sustained host score, in
        # units of its own scale (which series moved furthest from its normal), not by its
        # momentary score. A series counts for the host by both its surprise and its novelty:
        # the host alerts on what is new, not on every repeat of a familiar spike.
        rank = (self.sustain_alpha, self.covariance.clip)
        arrays, _, top2, standardized = robust.process(
            self.state, index, keys, values, at_s, self.params, learn, interval_s,
            self.deviation, rank, self.scaler.arrays(),
        )  # fmt: skip
        top = top2 / 2.0
        joint = self._joint(rows, standardized, learn)
        instant = max(top, joint)
        onset = self._onset(instant, learn)
        sustained = self.host[SUSTAINED] + self.sustain_alpha * (instant - self.host[SUSTAINED])
        warming = not bool(arrays.score.any())
        threshold = self.alert_threshold.at(self.step)
        surprise = max(float(arrays.score.max(initial=0.0)), joint)  # its evidence but novelty
        flagged = self._decide(onset, surprise, threshold) and not warming
        # A host alert that recurs at this hour of day (a nightly job) is learned, not raised.
        if flagged and learn and self.schedule.recurrent(at_s):
            flagged = False
        if learn:
            if not warming:
                self.alert_threshold.update(onset, at_s)
                self.host[THRESHOLD] = self.alert_threshold.at(self.step)
            self.host[FLAG_ON], self.host[LAST_AT] = float(flagged), at_s
            self.host[SUSTAINED] = sustained
        return HostScore(
            score=float(sustained),
            flagged=flagged,
            threshold=threshold,
            detector=SERIES_DETECTOR if top >= joint else HOST_DETECTOR,
            series=SeriesTable(arrays, SERIES_DETECTOR),
            warming_up=warming,
            onset=onset,
        )

    def _decide(self, onset: float, surprise: float, threshold: float) -> bool:
        """Does ``onset`` raise (or hold) the host alert; a young host's needs ``surprise`` too.

        ``surprise`` is the onset's evidence without novelty: the top series score or the joint
        model's. A young host's value ranges are as young as its models (see
        :meth:`pipeline.detect.threshold.OnsetThreshold.evidence_floor`).
        """
        on = bool(self.host[FLAG_ON] > 0)
        floor = self.alert_threshold.evidence_floor(self.step)
        return flag_with_hysteresis(onset, threshold, on, 0.15) and flag_with_hysteresis(
            surprise, floor, on, 0.15
        )

    def _joint(self, rows: robust.Rows, z: np.ndarray, learn: bool) -> float:
        """Score in [0, 1) of the residual vector's Mahalanobis distance (0 below two series).

        One series has no joint deviation to show, and its distance would only echo its own
        score, so single-series hosts skip the covariance model.
        """
        if len(z) < 2:
            return 0.0
        fold = self._fold if isinstance(rows, slice) else rows % self.n_features
        distance = self.covariance.process(z, learn, fold)
        # ~1 per feature on normal data; the same squashing as a series' score.
        return distance / (distance + self.params.score_k)

    def _onset(self, instant: float, learn: bool) -> float:
        """The host score only at an onset: above every score of the last one to two blocks.

        A sustained deviation raises one alert, not one per sample; two block maxima stand in for
        a sliding-window maximum in O(1) state.
        """
        if self.onset_block <= 0:
            return instant
        current, previous = self.host[BLOCK_MAX], self.host[PREVIOUS_MAX]
        score = instant if instant > max(current, previous) else 0.0
        if learn:
            self.host[BLOCK_MAX] = max(current, instant)
            self.host[BLOCK_LENGTH] += 1
            if self.host[BLOCK_LENGTH] >= self.onset_block:
                self.host[PREVIOUS_MAX], self.host[BLOCK_MAX] = self.host[BLOCK_MAX], 0.0
                self.host[BLOCK_LENGTH] = 0.0
        return float(score)

    def snapshot(self) -> bytes:
        """Versioned bytes from which :func:`restore` rebuilds an identical detector."""
        n = len(self.slots.names)
        arrays = {f"series.{k}": v[:n] for k, v in self.state.items()}
        arrays |= {f"covariance.{k}": v for k, v in self.covariance.state().items()}
        arrays |= {"host": self.host, "last_step": self.slots.last_step}
        arrays |= {f"schedule.{k}": v for k, v in self.schedule.state().items()}
        arrays |= {
            "alert.onsets": self.alert_threshold.onsets,
            "alert.stats": self.alert_threshold.stats,
        }
        arrays |= {"deviation": self.deviation[:n]}
        arrays |= {f"scaler.{k}": v for k, v in self.scaler.state(n).items()}
        meta = {
            "state_version": STATE_VERSION,
            "params": self._get_params(),
            "names": self.slots.names,
            "step": self.step,
        }
        return encode_snapshot(KIND, meta, arrays)

    @classmethod
    def restore(cls, data: bytes) -> RobustHostDetector:
        """Rebuild a detector from :meth:`snapshot` bytes (older versions are migrated).

        A v1 snapshot (half-space trees on the host vector) keeps its series models, threshold
        and onset state; the covariance model starts afresh and warms up again, as it does from
        v2 to v4 (whose covariance read residuals, not long-run standardized values). Series
        from v1 and v2 (no value range yet) start with a range of their level ± 3 scales.

        Raises
        ------
        ValueError
            When the bytes are not a snapshot of this detector at a known state version.
        """
        kind, meta, arrays = decode_snapshot(data)
        version = meta.get("state_version")
        if kind != KIND or version not in READABLE_VERSIONS:
            readable = ", ".join(f"v{v}" for v in READABLE_VERSIONS)
            raise ValueError(f"snapshot of {kind!r} v{version} is not {KIND} {readable}")
        params = dict(meta["params"])
        if version == 1:
            for gone in ("n_trees", "height", "window_size", "seed"):
                params.pop(gone, None)
        # v1-v3 set the alert threshold by a score quantile with a floor; v4 by an alarm budget.
        for gone in ("host_quantile", "host_min_threshold"):
            params.pop(gone, None)
        detector = cls(**params)
        detector.slots.restore(meta["names"], arrays["last_step"])
        series = {k[len("series.") :]: v for k, v in arrays.items() if k.startswith("series.")}
        detector.state = robust.migrate_state(series)
        detector.host = arrays["host"].astype(np.float64).copy()
        if version == 1:
            detector.host[SUSTAINED] = 0.0  # v1 kept the trees' quantile in this slot
        elif version >= 5:  # v2-v4 covariances learned residuals, not values: they start afresh
            prefix = "covariance."
            detector.covariance.load(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
        prefix = "schedule."
        detector.schedule.load(
            {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        )
        if "alert.onsets" in arrays:  # v4 on: older snapshots start the alert budget afresh
            detector.alert_threshold.onsets = arrays["alert.onsets"].astype(np.float64).copy()
            detector.alert_threshold.stats = arrays["alert.stats"].astype(np.float64).copy()
        # Before v5 neither contributions nor long-run spreads were kept: they restart from 0.
        rows = len(detector.state["count"])
        deviation = arrays.get("deviation", np.zeros(len(meta["names"])))
        detector.deviation = _grown(deviation.astype(np.float64), rows)
        scaler = {k[len("scaler.") :]: v for k, v in arrays.items() if k.startswith("scaler.")}
        empty = {name: np.zeros(len(meta["names"])) for name in ("mean", "var", "count")}
        detector.scaler.load(scaler or empty, rows)
        detector.step = int(meta["step"])
        return detector


def _grown(values: np.ndarray, rows: int) -> np.ndarray:
    """``values`` padded with zeros to ``rows`` (a copy; never shorter than it was)."""
    out = np.zeros(max(rows, len(values)))
    out[: len(values)] = values
    return out
