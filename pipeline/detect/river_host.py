"""River's own anomaly detectors, one per series of a host, behind the HostDetector contract.

Each series gets a fresh River model (``HalfSpaceTrees`` after a ``MinMaxScaler``, or a
``GaussianScorer``) wrapped in a :class:`pipeline.detect.filter.HysteresisFilter` that decides its
flag; the host score is the highest series score, with a filter of its own for the host flag.
"""

from __future__ import annotations

import pickle
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from river import anomaly, preprocessing, stats
from river.base import AnomalyDetector

from pipeline.detect.base import HostScore, SeriesScore
from pipeline.detect.filter import Decision, HysteresisFilter
from pipeline.detect.snapshot import decode_snapshot, encode_snapshot

KIND = "river"
STATE_VERSION = 1
NAN = float("nan")


def _half_space_trees(seed: int) -> Any:  # a River Pipeline, an anomaly detector at its end
    # River's defaults (10 trees of height 8, windows of 250); HST needs inputs in [0, 1].
    return preprocessing.MinMaxScaler() | anomaly.HalfSpaceTrees(seed=seed)


def _gaussian(seed: int) -> Any:  # a SupervisedAnomalyDetector: scores (None, y)
    # River's defaults: the whole history, no score for the first 100 samples.
    return anomaly.GaussianScorer()  # type: ignore[no-untyped-call]


MODELS: dict[str, Callable[[int], Any]] = {
    "hst": _half_space_trees,
    "gaussian": _gaussian,
}


class _Series:
    """One series: its filtered River model and an average that stands for its expected value."""

    def __init__(self, model: str, seed: int, q: float, hysteresis: float) -> None:
        # protect_anomaly_detector=False: a lasting shift is learned as the new normal instead
        # of flagging forever (the models here cannot tell a fault from a new level).
        self.filter = HysteresisFilter(MODELS[model](seed), Decision(q, hysteresis), False)
        self.supervised = model == "gaussian"
        self.mean = stats.EWMean(fading_factor=0.05)

    def score(self, value: float) -> float:
        args = (None, value) if self.supervised else ({"value": value},)
        return float(self.filter.score_one(*args))

    def process(self, value: float) -> tuple[float, bool, float]:
        expected = self.mean.get()
        args = (None, value) if self.supervised else ({"value": value},)
        score, flagged = self.filter.process(*args)
        self.mean.update(value)
        return score, flagged, expected


class RiverHostDetector(AnomalyDetector):
    """A host's series each scored by their own River anomaly detector.

    Parameters
    ----------
    model
        ``"hst"`` (``river.anomaly.HalfSpaceTrees``) or ``"gaussian"``
        (``river.anomaly.GaussianScorer``).
    q, hysteresis
        The series' and host's :class:`HysteresisFilter` quantile and hysteresis.
    max_series
        Series kept per host; the least recently seen is dropped beyond it.
    seed
        Seed of the randomised models (each series' is ``seed`` plus its arrival order).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> det = RiverHostDetector("gaussian")
    >>> for i in range(300):
    ...     _ = det.process_one({"cpu.usage_user": 20.0 + i % 5}, t0 + timedelta(seconds=10 * i))
    >>> det.process_one({"cpu.usage_user": 95.0}, t0 + timedelta(seconds=3000)).flagged
    True
    """

    def __init__(
        self,
        model: str = "hst",
        q: float = 0.995,
        hysteresis: float = 0.15,
        max_series: int = 4096,
        seed: int = 42,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown River model {model!r}; known: {', '.join(MODELS)}")
        self.model, self.q, self.hysteresis = model, q, hysteresis
        self.max_series, self.seed = max_series, seed
        self.series: OrderedDict[str, _Series] = OrderedDict()
        self.host = Decision(q, hysteresis)
        self.arrivals = 0

    @property
    def detector(self) -> str:
        """The name scores and events carry."""
        return f"river_{self.model}"

    def process_one(self, metrics: dict[str, float], at: datetime) -> HostScore:
        """Score every series of ``metrics``, then learn them (NaN/inf are skipped)."""
        scores: dict[str, SeriesScore] = {}
        for name, value in metrics.items():
            if np.isfinite(value):
                scores[name] = self._series_score(name, float(value))
            else:  # neither scored nor learned
                scores[name] = SeriesScore(name, 0.0, False, value, NAN, NAN, NAN, self.detector)
        top = max((s.score for s in scores.values()), default=0.0)
        threshold = self.host.threshold
        flagged = self.host.decide(top)
        return HostScore(
            score=top,
            flagged=flagged,
            threshold=threshold,
            detector=self.detector,
            series=scores,
            warming_up=top == 0.0,
        )

    def learn_one(self, x: dict[Hashable, Any]) -> None:
        """River API: learn one metric dict (per-series River models keep no clock)."""
        self.process_one({str(k): float(v) for k, v in x.items()}, datetime.now(UTC))

    def score_one(self, x: dict[Hashable, Any]) -> float:
        """River API: the host score of ``x`` (its highest series score), without learning it."""
        names = {str(k): v for k, v in x.items()}
        known = [
            (self.series[k], v) for k, v in names.items() if k in self.series and np.isfinite(v)
        ]
        return max((series.score(float(v)) for series, v in known), default=0.0)

    def _series_score(self, name: str, value: float) -> SeriesScore:
        series = self.series.get(name)
        if series is None:
            series = self.series[name] = _Series(
                self.model, self.seed + self.arrivals, self.q, self.hysteresis
            )
            self.arrivals += 1
            if len(self.series) > self.max_series:
                self.series.popitem(last=False)
        self.series.move_to_end(name)
        threshold = series.filter.decision.threshold
        score, flagged, expected = series.process(value)
        return SeriesScore(
            name, score, flagged, value, expected, NAN, NAN, self.detector, threshold
        )

    def snapshot(self) -> bytes:
        """Versioned bytes: parameters in the header, the River models pickled in one array.

        Pickle, because River models have no other serialisation; the bytes only ever come
        back from the worker's own state table, never from a message.
        """
        params = {"model": self.model, "q": self.q, "hysteresis": self.hysteresis}
        params |= {"max_series": self.max_series, "seed": self.seed}
        # Pickle's bytes depend on which equal strings happen to be one object; a loaded copy
        # shares them canonically, so a detector and its restored copy snapshot to equal bytes.
        live = pickle.dumps((self.series, self.host, self.arrivals), protocol=5)
        state = zlib.compress(pickle.dumps(pickle.loads(live), protocol=5), 1)  # noqa: S301
        meta = {"state_version": STATE_VERSION, "params": params}
        return encode_snapshot(KIND, meta, {"models": np.frombuffer(state, dtype=np.uint8)})

    @classmethod
    def restore(cls, data: bytes) -> RiverHostDetector:
        """Rebuild a detector from :meth:`snapshot` bytes.

        Raises
        ------
        ValueError
            When the bytes are not a River host snapshot of a known version.
        """
        kind, meta, arrays = decode_snapshot(data)
        if kind != KIND or meta.get("state_version") != STATE_VERSION:
            raise ValueError(f"snapshot of {kind!r} v{meta.get('state_version')} is not river v1")
        detector = cls(**meta["params"])
        try:
            state: Any = pickle.loads(zlib.decompress(arrays["models"].tobytes()))  # noqa: S301
        except (zlib.error, pickle.UnpicklingError, EOFError) as exc:
            raise ValueError(f"corrupt River detector snapshot: {exc}") from exc
        detector.series, detector.host, detector.arrivals = state
        return detector
