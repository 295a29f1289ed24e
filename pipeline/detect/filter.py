"""A River anomaly filter whose threshold is a streaming quantile of past scores, with hysteresis.

River's ``QuantileFilter`` (river/anomaly/filter.py) flags a score above the ``q`` quantile of the
scores seen so far (River's P² estimator). This one does the same, with a floor under the
threshold and hysteresis: once on, a flag stays on until the score falls back part of the way to
the scores' median, so a score hovering at the threshold raises one alert, not many.
"""

from __future__ import annotations

from typing import Any

from river import stats
from river.base import AnomalyDetector, AnomalyFilter


class Decision:
    """The quantile threshold and hysteresis state behind one stream of scores.

    Hysteresis is measured from the scores' median up to the threshold: a flag clears once the
    score falls ``hysteresis`` of that way back. For scores that sit near 0 when all is well
    (the default detector's) that is ``threshold * (1 - hysteresis)``; for scores that sit high
    (River's half-space trees score ~0.9 on ordinary data) it still means "back near normal".

    Parameters
    ----------
    q
        Quantile level of the threshold (0.995: about one score in 200 exceeds it).
    hysteresis
        Relative drop below the threshold at which a raised flag clears.
    min_threshold
        Floor of the threshold, so a quiet stream's tiny scores never flag (nothing flags before
        the first estimate).

    Examples
    --------
    >>> d = Decision(q=0.9, hysteresis=0.5, min_threshold=0.5)
    >>> for i in range(100):
    ...     _ = d.decide(0.2 + 0.01 * (i % 10))
    >>> [d.decide(s) for s in (0.6, 0.45, 0.39, 0.3)]
    [True, True, True, False]
    """

    def __init__(
        self,
        q: float = 0.995,
        hysteresis: float = 0.15,
        min_threshold: float = 0.7,
    ) -> None:
        if not (0.0 < q < 1.0 and 0.0 <= hysteresis < 1.0):
            raise ValueError(f"q must be in (0, 1) and hysteresis in [0, 1): {q}, {hysteresis}")
        self.q, self.hysteresis = q, hysteresis
        self.min_threshold = min_threshold
        # River's P² estimators, as its QuantileFilter uses: a fixed step could not tell 0.99
        # from 0.999, where saturating detectors (half-space trees) put their scores.
        self.quantile = stats.Quantile(q)
        self.center = stats.Quantile(0.5)
        self.on = False

    @property
    def threshold(self) -> float:
        """The score a sample must reach to be flagged (when not already on)."""
        estimate = self.quantile.get()
        return max(1.0 if estimate is None else min(estimate, 1.0), self.min_threshold)

    def classify(self, score: float) -> bool:
        """Is ``score`` anomalous, given whether the previous decided score was."""
        threshold = self.threshold
        if self.on:
            center = min(self.center.get() or 0.0, threshold)
            return score >= threshold - self.hysteresis * (threshold - center)
        return score >= threshold

    def decide(self, score: float) -> bool:
        """Classify ``score``, then move the quantile and the on/off state past it."""
        flagged = self.classify(score)
        self.quantile.update(score)
        self.center.update(score)
        self.on = flagged
        return flagged


class HysteresisFilter(AnomalyFilter):
    """River anomaly filter deciding with a :class:`Decision` (quantile threshold, hysteresis).

    Parameters
    ----------
    anomaly_detector
        Any River anomaly detector (supervised ones take ``(x, y)``, as in River).
    decision
        The threshold rule (default: ``Decision()``).
    protect_anomaly_detector
        When true, flagged samples are not learned (River's meaning).

    Examples
    --------
    >>> from river import anomaly
    >>> f = HysteresisFilter(anomaly.GaussianScorer(grace_period=10), Decision(0.9))
    >>> for i in range(200):
    ...     score, flagged = f.process(None, float(i % 7))
    >>> f.process(None, 60.0)[1], f.decision.on
    (True, True)
    """

    def __init__(
        self,
        anomaly_detector: AnomalyDetector,
        decision: Decision | None = None,
        protect_anomaly_detector: bool = True,
    ) -> None:
        super().__init__(anomaly_detector, protect_anomaly_detector)
        self.decision = decision if decision is not None else Decision()

    def classify(self, score: float) -> bool:
        """River API: is ``score`` anomalous (see :meth:`Decision.classify`)."""
        return self.decision.classify(score)

    def learn_one(self, *args: Any, **learn_kwargs: Any) -> None:
        """River API: update the threshold and (unless protected from it) the detector."""
        self.process(*args, **learn_kwargs)

    def process(self, *args: Any, **learn_kwargs: Any) -> tuple[float, bool]:
        """Score once, decide, then learn: ``(score, flagged)`` of the sample before learning it."""
        score = float(self.anomaly_detector.score_one(*args))
        flagged = self.decision.decide(score)
        if not (self.protect_anomaly_detector and flagged):
            self.anomaly_detector.learn_one(*args, **learn_kwargs)
        return score, flagged
