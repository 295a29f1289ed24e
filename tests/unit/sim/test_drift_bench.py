"""``eval drift`` scoring: which events are false, and where they come from."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.models import AnomalyEvent, Contributor
from pipeline.sim.capacity import T0, make_host
from pipeline.sim.drift_bench import DriftReport, score_host


def _event(at: datetime, reason: str, metric: str | None) -> AnomalyEvent:
    top = [Contributor(metric="cpu.usage_user", score=0.9, observed=90.0, expected=20.0)]
    return AnomalyEvent(
        event_id=f"e-{at.timestamp():.0f}-{metric}",
        node_id="cap-002",
        scope="series" if metric else "host",
        metric=metric,
        window_start_at=at - timedelta(minutes=1),
        window_end_at=at,
        score=0.9,
        threshold=0.7,
        detector="robust_hw",
        severity="warning",
        reason=reason,
        contributors=[] if metric else top,
    )


def test_false_events_after_learning_are_broken_down_by_reason_series_and_hour() -> None:
    host = make_host(2, days=5, interval_s=600.0, history_days=3.0, seed=0)  # a control
    assert host.kind == "control"
    events = [
        _event(T0 + timedelta(days=1, hours=5), "drift", "disk.root.used_percent"),  # learning
        _event(T0 + timedelta(days=3, hours=5, minutes=2), "drift", "disk.root.used_percent"),
        _event(T0 + timedelta(days=4, hours=5, minutes=40), "drift", "disk.root.used_percent"),
        _event(T0 + timedelta(days=4, hours=23), "score", None),
    ]
    report = DriftReport(hosts=1, days=5)
    score_host(report, host, events)
    assert report.false_events == 3
    assert report.breakdown() == [
        ("drift", "disk.root.used_percent", 5, 2),
        ("score", "host<cpu.usage_user>", 23, 1),
    ]
