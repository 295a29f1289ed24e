"""The default host detector: robust per-series models plus half-space trees on the host vector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from river.base import AnomalyDetector

from pipeline.detect import robust
from pipeline.detect.base import HostScore
from pipeline.detect.halfspace import ArrayHalfSpaceTrees
from pipeline.detect.series_table import SeriesTable
from pipeline.detect.slots import SlotMap
from pipeline.detect.snapshot import decode_snapshot, encode_snapshot
from pipeline.detect.threshold import calibrate, flag_with_hysteresis

KIND = "default"
STATE_VERSION = 1
SERIES_DETECTOR = "robust_hw"
HOST_DETECTOR = "hst"


class RobustHostDetector(AnomalyDetector):
    """Scores a host's metric dict: every series on its own, and the host vector as a whole.

    Each series has a robust Holt-Winters model (level, damped trend, daily profile, MAD scale,
    Huber-clipped updates so outliers and level shifts do not poison it). The host vector of
    squashed residuals feeds array half-space trees, which catch joint deviations. The host score
    is the larger of the top series score and the trees' score; every threshold is a streaming
    quantile of that score's own past, with hysteresis.

    Parameters
    ----------
    max_series
        Series kept per host; the least recently seen is evicted beyond it.
    n_features
        Length of the host vector given to the trees (series are folded onto it).
    n_trees, height, window_size
        Half-space trees shape.
    host_quantile, host_min_threshold
        Calibration of the host threshold.
    onset_block
        The host score is reported only when it exceeds every host score of the last
        ``onset_block`` to ``2 * onset_block`` samples (0 disables): one alert per onset.
    seed
        Seed of the trees.
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
        n_trees: int = 16,
        height: int = 6,
        window_size: int = 250,
        host_quantile: float = 0.995,
        host_min_threshold: float = 0.7,
        onset_block: int = 250,
        seed: int = 42,
        **series_params: Any,
    ) -> None:
        self.max_series = max_series
        self.n_features = n_features
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.host_quantile = host_quantile
        self.host_min_threshold = host_min_threshold
        self.onset_block = onset_block
        self.seed = seed
        self.series_params = series_params
        self.params = robust.SeriesParams(**series_params)
        self.slots = SlotMap(max_series)
        self.state = robust.empty_state(0, self.params)
        self.trees = ArrayHalfSpaceTrees(n_features, n_trees, height, window_size, seed)
        # host threshold quantile, flag on (0/1), last sample time (epoch s), trees' 99th pct,
        # onset block maxima (current, previous) and the current block's length
        self.host = np.zeros(7)
        self.step = 0
        self._keys: tuple[str, ...] = ()
        self._rows: robust.Rows = slice(0, 0)

    def _get_params(self) -> dict[str, Any]:
        params = {k: getattr(self, k) for k in ("max_series", "n_features", "n_trees", "height")}
        params |= {k: getattr(self, k) for k in ("window_size", "host_quantile", "seed")}
        params |= {"host_min_threshold": self.host_min_threshold, "onset_block": self.onset_block}
        return params | self.series_params

    def process_one(self, metrics: dict[str, float], at: datetime) -> HostScore:
        """Score ``metrics`` sampled at ``at``, then learn them (NaN/inf are never learned)."""
        self.step += 1
        self._route(tuple(metrics))
        return self._evaluate(self._rows, self._keys, metrics, at.timestamp(), learn=True)

    def learn_one(self, x: dict[str, Any], at: datetime | None = None) -> None:
        """River API: learn one metric dict (``at`` defaults to the last sample time)."""
        self.step += 1
        self._route(tuple(x))
        at_s = at.timestamp() if at else float(self.host[2])
        self._evaluate(self._rows, self._keys, x, at_s, learn=True)

    def score_one(self, x: dict[str, Any], at: datetime | None = None) -> float:
        """River API: the host score of ``x`` without learning it (unknown metrics ignored)."""
        known = tuple(k for k in x if k in self.slots.position)
        rows = np.array([self.slots.position[k] for k in known], dtype=np.intp)
        at_s = at.timestamp() if at else float(self.host[2])
        return self._evaluate(rows, known, {k: x[k] for k in known}, at_s, learn=False).score

    def _route(self, keys: tuple[str, ...]) -> None:
        """Rows of this batch's metrics; cached while a host keeps sending the same keys."""
        if keys == self._keys:
            self.slots.touch(self._rows, self.step)  # type: ignore[arg-type]  # slice or rows
            return
        rows, fresh = self.slots.assign(keys, self.step)
        self.state = robust.grow(self.state, len(self.slots.names), self.params)
        robust.reset_rows(self.state, fresh)
        contiguous = np.array_equal(rows, np.arange(len(rows)))
        self._keys, self._rows = keys, slice(0, len(rows)) if contiguous else rows

    def _evaluate(
        self,
        rows: robust.Rows,
        keys: tuple[str, ...],
        metrics: dict[str, Any],
        at_s: float,
        learn: bool,
    ) -> HostScore:
        values = np.fromiter(metrics.values(), dtype=np.float64, count=len(keys))
        arrays, z = robust.process(self.state, rows, keys, values, at_s, self.params, learn)
        u = np.full(self.n_features, 0.5)
        slot = np.arange(len(keys)) if isinstance(rows, slice) else rows
        u[slot % self.n_features] = 0.5 + 0.5 * np.tanh(z / 4.0)
        raw_tree = self.trees.score_vector(u)
        # Raw tree scores sit around 0.5 on normal data; only their excess over their own 99th
        # percentile counts, so the host score is near 0 for a normal host.
        tree_q = float(self.host[3])
        tree_score = max(0.0, raw_tree - tree_q) / max(1e-9, 1.0 - tree_q) if tree_q else 0.0
        top = float(arrays.score.max()) if len(keys) else 0.0
        sustained = max(top, tree_score)
        score = self._onset(sustained, learn)
        warming = self.trees.windows == 0 or not bool(arrays.score.any())
        threshold = max(float(self.host[0]), self.host_min_threshold)
        flagged = bool(
            flag_with_hysteresis(
                np.array([score]), np.array([threshold]), np.array([self.host[1] > 0]), 0.15
            )[0]
        )
        flagged = flagged and not warming
        if learn:
            if np.isfinite(values).any():
                self.trees.learn_vector(u)
            if self.trees.windows:
                tree_q = np.array([float(self.host[3]) or raw_tree])
                self.host[3] = calibrate(tree_q, np.array([raw_tree]), 0.99, 0.01)[0]
            if not warming:
                rate = self.params.quantile_rate
                self.host[0] = calibrate(
                    self.host[:1], np.array([score]), self.host_quantile, rate
                )[0]
            self.host[1], self.host[2] = float(flagged), at_s
        return HostScore(
            score=score,
            flagged=flagged,
            threshold=threshold,
            detector=SERIES_DETECTOR if top >= tree_score else HOST_DETECTOR,
            series=SeriesTable(arrays, SERIES_DETECTOR),
            warming_up=warming,
        )

    def _onset(self, sustained: float, learn: bool) -> float:
        """The host score only at an onset: above every score of the last one to two blocks.

        A sustained deviation raises one alert, not one per sample; two block maxima stand in for
        a sliding-window maximum in O(1) state.
        """
        if self.onset_block <= 0:
            return sustained
        current, previous, length = self.host[4], self.host[5], self.host[6]
        score = sustained if sustained > max(current, previous) else 0.0
        if learn:
            self.host[4], self.host[6] = max(current, sustained), length + 1
            if self.host[6] >= self.onset_block:
                self.host[5], self.host[4], self.host[6] = self.host[4], 0.0, 0.0
        return float(score)

    def snapshot(self) -> bytes:
        """Versioned bytes from which :func:`restore` rebuilds an identical detector."""
        n = len(self.slots.names)
        arrays = {f"series.{k}": v[:n] for k, v in self.state.items()}
        arrays |= {f"trees.{k}": v for k, v in self.trees.state().items()}
        arrays |= {"host": self.host, "last_step": self.slots.last_step}
        meta = {
            "state_version": STATE_VERSION,
            "params": self._get_params(),
            "names": self.slots.names,
            "step": self.step,
        }
        return encode_snapshot(KIND, meta, arrays)

    @classmethod
    def restore(cls, data: bytes) -> RobustHostDetector:
        """Rebuild a detector from :meth:`snapshot` bytes.

        Raises
        ------
        ValueError
            When the bytes are not a snapshot of this detector at a known state version.
        """
        kind, meta, arrays = decode_snapshot(data)
        if kind != KIND or meta.get("state_version") != STATE_VERSION:
            raise ValueError(f"snapshot of {kind!r} v{meta.get('state_version')} is not {KIND} v1")
        detector = cls(**meta["params"])
        detector.slots.restore(meta["names"], arrays["last_step"])
        detector.state = {k: arrays[f"series.{k}"].copy() for k in robust.STATE_FIELDS}
        detector.trees.load({k[6:]: v for k, v in arrays.items() if k.startswith("trees.")})
        detector.host = arrays["host"].astype(np.float64).copy()
        detector.step = int(meta["step"])
        return detector
