"""Self-calibrating host thresholds: a streaming quantile of past scores, with hysteresis.

Scalars, one host at a time; the per-series versions of the same rules run inside the compiled
pass of :mod:`pipeline.detect.series_kernel`.
"""

from __future__ import annotations

import numpy as np


def calibrate(quantile: float, score: float, level: float, rate: float) -> float:
    """One Robbins-Monro step of the ``level`` quantile of ``score``.

    The estimate rises by ``rate * level`` when a score exceeds it and falls by
    ``rate * (1 - level)`` otherwise, so it settles where a fraction ``1 - level`` of scores exceed.

    Examples
    --------
    >>> q = 0.0
    >>> for i in range(2001):
    ...     q = calibrate(q, (i / 2000) % 1.0, 0.9, 0.01)
    >>> 0.8 < q < 1.0
    True
    """
    return quantile + rate * (level if score > quantile else level - 1.0)


def flag_with_hysteresis(score: float, threshold: float, on: bool, hysteresis: float) -> bool:
    """Flag when ``score`` reaches ``threshold``; stay flagged down to ``threshold*(1-hysteresis)``.

    Examples
    --------
    >>> flag_with_hysteresis(0.75, 0.8, True, 0.1), flag_with_hysteresis(0.75, 0.8, False, 0.1)
    (True, False)
    """
    return score >= threshold * (1.0 - hysteresis) if on else score >= threshold


class OnsetThreshold:
    """The host alert's threshold, set by an alarm budget in time instead of by labels.

    Candidate alerts (onsets: the host score beating the last one to two blocks) arrive every
    ``gap`` seconds on average; to raise at most ``budget_per_day`` of them a day, an onset must
    reach the ``1 - budget_per_day * gap / 86400`` quantile (at least the median) of the last
    ``keep`` onsets. A young host has few onsets, so the quantile is their maximum: a new one
    must beat them all. ``prior`` joins them as one pseudo-onset: a score of 0.25 is a series at
    its usual 99th-percentile surprise (``ratio = 1`` in :mod:`pipeline.detect.series_kernel`).
    For its first ``young_samples`` samples (four onset blocks) a host's young models inflate
    its scores, so the threshold is at least ``young_floor`` (seven usual surprises), and the
    alert must reach it by surprise alone (:meth:`evidence_floor`), not by novelty.

    Examples
    --------
    >>> threshold = OnsetThreshold()
    >>> for day in range(200):  # an onset a day, spread over [0, 1): about one in ten is raised
    ...     threshold.update((day * 0.618) % 1.0, day * 86_400.0)
    >>> 0.8 < threshold.value < 1.0
    True
    """

    def __init__(
        self,
        budget_per_day: float = 0.1,
        prior: float = 0.25,
        keep: int = 64,
        young_samples: int = 1000,
        young_floor: float = 0.7,
    ) -> None:
        self.budget_per_day = budget_per_day
        self.young_samples = young_samples
        self.young_floor = young_floor
        self.onsets = np.full(keep, np.nan)
        self.onsets[0] = prior
        self.stats = np.array([prior, 0.0, 0.0, 1.0])  # threshold, mean gap (s), last (s), count

    @property
    def value(self) -> float:
        """The threshold the budget sets."""
        return float(self.stats[0])

    def at(self, samples_seen: int) -> float:
        """The threshold for a host that has seen ``samples_seen`` samples."""
        young = samples_seen < self.young_samples
        return max(self.value, self.young_floor) if young else self.value

    def evidence_floor(self, samples_seen: int) -> float:
        """What a young host's alert needs from surprise alone: ``young_floor``, then nothing.

        A host score counts a series by its surprise and its novelty (a value outside the range
        the series has taken so far). A young host's ranges are as young as its models: about
        2/n of ordinary values fall outside a range of n, so on a host of a hundred series some
        series is at a new extreme nearly every sample, and novelty alone can carry an onset
        over ``young_floor`` with a surprise of three usual ones. Until the host has seen
        ``young_samples`` samples, its alert must also reach the floor by surprise alone.

        Examples
        --------
        >>> threshold = OnsetThreshold()
        >>> threshold.evidence_floor(200), threshold.evidence_floor(5000)
        (0.7, 0.0)
        """
        return self.young_floor if samples_seen < self.young_samples else 0.0

    def update(self, onset: float, at_s: float) -> None:
        """Learn from one onset score (0 between onsets: nothing to learn)."""
        if onset <= 0.0:
            return
        _, gap_s, last_s, count = self.stats
        if count > 1:
            step = max(0.1, 1.0 / (count - 1))  # a running mean first, then forgetting
            gap_s = at_s - last_s if count == 2 else gap_s + step * (at_s - last_s - gap_s)
        self.onsets[int(count) % len(self.onsets)] = onset
        level = min(max(1.0 - self.budget_per_day * (gap_s or 86_400.0) / 86_400.0, 0.5), 1.0)
        threshold = float(np.nanquantile(self.onsets, level))
        self.stats = np.array([threshold, gap_s, at_s, count + 1])
