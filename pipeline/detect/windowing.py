"""Tumbling windows over host scores → AnomalyEvents; pure, the same online and offline.

Each node has one open window ``[start, start + window_s)`` aligned on the epoch. A sample past
the window's end closes it: one series event per metric flagged in it (at its peak) and one host
event if the host score flagged. Event ids derive from node, metric and window start, so a
replayed stream produces the same ids and sinks can de-duplicate.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.detect.base import HostScore, SeriesScore
from pipeline.models import AnomalyEvent, Contributor, Severity

SNAPSHOT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # v1 peaks lack reason and ETA: they read as score flags
# A window keeps one flag per series: the one with the rarest, most actionable reason.
REASON_RANK = {"score": 0, "drift": 1, "forecast": 2, "saturated": 3}


@dataclass
class _Peak:
    """The highest-scoring flagged moment of one window (host or one series)."""

    score: float
    threshold: float
    detector: str
    observed: float | None = None
    expected: float | None = None
    expected_low: float | None = None
    expected_high: float | None = None
    contributors: list[dict[str, Any]] = field(default_factory=list)
    reason: str = "score"
    exhaustion_eta_s: float | None = None
    eta_low_s: float | None = None
    eta_high_s: float | None = None


@dataclass
class _Window:
    start_s: float
    labels: dict[str, str]
    host: _Peak | None = None
    series: dict[str, _Peak] = field(default_factory=dict)


def event_id(node_id: str, metric: str | None, window_start_at: datetime) -> str:
    """Deterministic id of the event of ``node_id``/``metric`` (None = host) in one window.

    Examples
    --------
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> event_id("web-01", None, at) == event_id("web-01", None, at)
    True
    """
    key = f"{node_id}\x00{metric or ''}\x00{window_start_at.timestamp():.6f}"
    return "evt-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def severity(score: float, threshold: float) -> Severity:
    """How far past its threshold a peak went: info < 25 % < warning < 60 % < critical."""
    margin = (score - threshold) / max(1e-9, 1.0 - threshold)
    if margin >= 0.6:
        return "critical"
    return "warning" if margin >= 0.25 else "info"


class WindowTracker:
    """Per-node tumbling windows that turn flagged scores into AnomalyEvents.

    Parameters
    ----------
    window_s
        Window length in seconds.

    Examples
    --------
    >>> from pipeline.detect.base import HostScore
    >>> tracker = WindowTracker(window_s=60)
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> hot = HostScore(score=0.9, flagged=True, threshold=0.7, detector="hst")
    >>> tracker.update("web-01", {}, t0, hot)
    []
    >>> [e.scope for e in tracker.update("web-01", {}, t0 + timedelta(seconds=60), hot)]
    ['host']
    """

    def __init__(self, window_s: float = 60.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self.window_s = float(window_s)
        self.windows: dict[str, _Window] = {}

    def update(
        self, node_id: str, labels: dict[str, str], at: datetime, score: HostScore
    ) -> list[AnomalyEvent]:
        """Add one host score; return the events of the window this sample closed, if any."""
        start_s = math.floor(at.timestamp() / self.window_s) * self.window_s
        events: list[AnomalyEvent] = []
        window = self.windows.get(node_id)
        if window is not None and start_s > window.start_s:
            events = self._close(node_id, window, at)
            window = None
        if window is None:
            window = self.windows[node_id] = _Window(start_s, dict(labels))
        # A late sample (older than the open window) is folded into it rather than reopening.
        _absorb(window, score)
        return events

    def expire(self, now: datetime) -> list[AnomalyEvent]:
        """Close windows that ended at or before ``now`` (nodes that went quiet)."""
        ended = [n for n, w in self.windows.items() if w.start_s + self.window_s <= now.timestamp()]
        return [e for node in ended for e in self._close(node, self.windows[node], now)]

    def flush(self, now: datetime) -> list[AnomalyEvent]:
        """Close every open window (at shutdown); ``now`` becomes the events' ``detected_at``."""
        return [
            e for node in list(self.windows) for e in self._close(node, self.windows[node], now)
        ]

    def _close(self, node_id: str, window: _Window, now: datetime) -> list[AnomalyEvent]:
        del self.windows[node_id]
        start = datetime.fromtimestamp(window.start_s, UTC)
        end = start + timedelta(seconds=self.window_s)
        events = [
            _event(node_id, window.labels, metric, peak, start, end, now)
            for metric, peak in sorted(window.series.items())
        ]
        if window.host is not None:
            events.append(_event(node_id, window.labels, None, window.host, start, end, now))
        return events

    def snapshot(self) -> bytes:
        """Versioned JSON bytes of the open windows."""
        windows = {
            node: {
                "start_s": w.start_s,
                "labels": w.labels,
                "host": None if w.host is None else w.host.__dict__,
                "series": {m: p.__dict__ for m, p in w.series.items()},
            }
            for node, w in self.windows.items()
        }
        state = {"version": SNAPSHOT_VERSION, "window_s": self.window_s, "windows": windows}
        return json.dumps(state, sort_keys=True).encode()

    @classmethod
    def restore(cls, data: bytes) -> WindowTracker:
        """Rebuild a tracker from :meth:`snapshot` bytes.

        Raises
        ------
        ValueError
            When the bytes are not a tracker snapshot of a known version.
        """
        state = json.loads(data)
        if state.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"window snapshot version {state.get('version')} unsupported")
        tracker = cls(state["window_s"])
        for node, w in state["windows"].items():
            host = None if w["host"] is None else _Peak(**w["host"])
            series = {m: _Peak(**p) for m, p in w["series"].items()}
            tracker.windows[node] = _Window(w["start_s"], w["labels"], host, series)
        return tracker


def _absorb(window: _Window, score: HostScore) -> None:
    """Keep the peak of the host and of every flagged series."""
    alert = score.alert_score
    if score.flagged and (window.host is None or alert > window.host.score):
        contributors = [_contributor(s) for s in score.contributors(10)]
        window.host = _Peak(
            alert,
            score.threshold,
            score.detector,
            contributors=[c for c in contributors if c is not None],
        )
    for s in score.flagged_series():
        peak = window.series.get(s.metric)
        if peak is None or _rank(s.reason, s.score) > _rank(peak.reason, peak.score):
            window.series[s.metric] = _series_peak(s)


def _rank(reason: str, score: float) -> tuple[int, float]:
    """Which flag of a window a series event reports: the rarer reason first, then the score."""
    return REASON_RANK.get(reason, 0), score


def _series_peak(s: SeriesScore) -> _Peak:
    return _Peak(
        s.score,
        s.threshold,
        s.detector,
        s.observed,
        s.expected,
        s.expected_low,
        s.expected_high,
        reason=s.reason,
        exhaustion_eta_s=s.exhaustion_eta_s,
        eta_low_s=s.eta_low_s,
        eta_high_s=s.eta_high_s,
    )


def _contributor(s: SeriesScore) -> dict[str, Any] | None:
    if s.score <= 0 or not (math.isfinite(s.observed) and math.isfinite(s.expected)):
        return None
    return {"metric": s.metric, "score": s.score, "observed": s.observed, "expected": s.expected}


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _event(
    node_id: str,
    labels: dict[str, str],
    metric: str | None,
    peak: _Peak,
    start: datetime,
    end: datetime,
    now: datetime,
) -> AnomalyEvent:
    return AnomalyEvent(
        event_id=event_id(node_id, metric, start),
        node_id=node_id,
        labels=labels,
        scope="host" if metric is None else "series",
        metric=metric,
        window_start_at=start,
        window_end_at=end,
        score=min(max(peak.score, 0.0), 1.0),
        threshold=min(max(peak.threshold, 0.0), 1.0),
        observed=_finite(peak.observed),
        expected=_finite(peak.expected),
        expected_low=_finite(peak.expected_low),
        expected_high=_finite(peak.expected_high),
        detector=peak.detector,
        severity=_severity_of(peak),
        contributors=[Contributor(**c) for c in peak.contributors],
        detected_at=now,
        reason=peak.reason,  # one of REASONS; the model checks it
        exhaustion_eta_s=_finite(peak.exhaustion_eta_s),
        eta_low_s=_finite(peak.eta_low_s),
        eta_high_s=_finite(peak.eta_high_s),
    )


def _severity_of(peak: _Peak) -> Severity:
    """A resource at its bound is critical; one running out within the hour too, else warning."""
    if peak.reason == "saturated":
        return "critical"
    if peak.reason == "forecast":
        eta_s = peak.exhaustion_eta_s
        return "critical" if eta_s is not None and eta_s <= 3600.0 else "warning"
    return severity(peak.score, peak.threshold)
