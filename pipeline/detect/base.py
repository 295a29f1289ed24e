"""The contract every fleetwatch detector meets, and the scores it returns.

A node sends all its metrics in one ``MetricBatch``, so the unit of work is a host's metric dict: a
``HostDetector`` keeps the state of every series of one host and scores the whole dict at once.
Scores are in [0, 1]; higher means more anomalous.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SeriesScore:
    """One series' verdict for one sample, with the band the model expected it in."""

    metric: str
    score: float
    flagged: bool
    observed: float
    expected: float
    expected_low: float
    expected_high: float
    detector: str
    threshold: float = 0.0
    # Why it is flagged: "score", "drift", "forecast" or "saturated" (series_watch.REASONS).
    reason: str = "score"
    # Bounded series: seconds until exhaustion, with its interval (None: not approaching).
    exhaustion_eta_s: float | None = None
    eta_low_s: float | None = None
    eta_high_s: float | None = None


@dataclass(frozen=True)
class HostScore:
    """One host's verdict for one batch: the host score and every series' score.

    ``score`` is the host's anomaly level (it may stay high while a host misbehaves). A detector
    that raises alerts on onsets sets ``onset``: the score the alert rule compared with
    ``threshold`` for ``flagged`` (0 between onsets). :attr:`alert_score` is whichever of the two
    the flag was decided on.
    """

    score: float
    flagged: bool
    threshold: float
    detector: str
    # Any mapping: detectors return a lazy one backed by arrays so that scoring a host stays
    # O(1) Python objects; iterating it builds the SeriesScore objects on demand.
    series: Mapping[str, SeriesScore] = field(default_factory=dict)
    warming_up: bool = False
    onset: float | None = None

    @property
    def alert_score(self) -> float:
        """The score ``flagged`` was decided on: ``onset`` when set, else ``score``."""
        return self.score if self.onset is None else self.onset

    def contributors(self, limit: int = 5) -> list[SeriesScore]:
        """The series that contributed most, highest score first."""
        top = getattr(self.series, "top", None)
        if callable(top):
            ranked: list[SeriesScore] = top(limit)
            return ranked
        ranked = sorted(self.series.values(), key=lambda s: s.score, reverse=True)
        return ranked[:limit]

    def flagged_series(self) -> list[SeriesScore]:
        """The series flagged in this batch, in metric order."""
        flagged = getattr(self.series, "flagged", None)
        if callable(flagged):
            found: list[SeriesScore] = flagged()
            return found
        return [s for s in self.series.values() if s.flagged]


@runtime_checkable
class HostDetector(Protocol):
    """Scores and learns one host's metric dicts; snapshots to versioned bytes."""

    def process_one(self, metrics: dict[str, float], at: datetime) -> HostScore:
        """Score ``metrics`` sampled at ``at``, then learn from them (never from NaN/inf)."""
        ...

    def snapshot(self) -> bytes:
        """Versioned bytes from which ``restore`` rebuilds an identical detector."""
        ...
