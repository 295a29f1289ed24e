"""Tumbling windows turn flagged host scores into AnomalyEvents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.detect.base import HostScore, SeriesScore
from pipeline.detect.windowing import WindowTracker, event_id, severity

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LABELS = {"role": "web"}


def series(metric: str, score: float, flagged: bool, observed: float = 90.0) -> SeriesScore:
    return SeriesScore(metric, score, flagged, observed, 20.0, 10.0, 30.0, "robust_hw", 0.7)


def host(score: float = 0.1, flagged: bool = False, *items: SeriesScore) -> HostScore:
    return HostScore(score, flagged, 0.7, "hst", {s.metric: s for s in items})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_quiet_windows_emit_nothing() -> None:
    tracker = WindowTracker(60)
    events = [e for i in range(30) for e in tracker.update("n1", LABELS, at(10 * i), host())]
    assert events == []


def test_window_closes_with_series_and_host_events_at_their_peaks() -> None:
    tracker = WindowTracker(60)
    assert tracker.update("n1", LABELS, at(5), host(0.8, True, series("cpu.a", 0.8, True))) == []
    peak = host(0.95, True, series("cpu.a", 0.95, True, 99.0), series("cpu.b", 0.2, False))
    assert tracker.update("n1", LABELS, at(30), peak) == []
    assert tracker.update("n1", LABELS, at(50), host(0.9, True, series("mem.c", 0.75, True))) == []
    events = tracker.update("n1", LABELS, at(61), host())
    by_key = {(e.scope, e.metric): e for e in events}
    assert set(by_key) == {("series", "cpu.a"), ("series", "mem.c"), ("host", None)}
    cpu = by_key[("series", "cpu.a")]
    assert (cpu.score, cpu.observed, cpu.expected, cpu.threshold) == (0.95, 99.0, 20.0, 0.7)
    assert cpu.window_start_at == T0 and cpu.window_end_at == at(60)
    assert cpu.labels == LABELS and cpu.node_id == "n1"
    host_event = by_key[("host", None)]
    assert host_event.score == 0.95 and host_event.contributors[0].metric == "cpu.a"
    assert tracker.update("n1", LABELS, at(125), host()) == []  # the next window was quiet


def test_host_event_only_when_host_flagged() -> None:
    tracker = WindowTracker(60)
    tracker.update("n1", LABELS, at(1), host(0.8, False, series("cpu.a", 0.8, True)))
    events = tracker.update("n1", LABELS, at(70), host())
    assert [(e.scope, e.metric) for e in events] == [("series", "cpu.a")]


def test_nodes_have_their_own_windows() -> None:
    tracker = WindowTracker(60)
    tracker.update("n1", LABELS, at(1), host(0.9, True))
    assert tracker.update("n2", LABELS, at(100), host()) == []
    assert [e.node_id for e in tracker.update("n1", LABELS, at(100), host())] == ["n1"]


def test_event_ids_are_deterministic_and_distinct() -> None:
    def replay() -> list[str]:
        tracker = WindowTracker(60)
        tracker.update("n1", LABELS, at(1), host(0.9, True, series("cpu.a", 0.9, True)))
        return [e.event_id for e in tracker.update("n1", LABELS, at(61), host())]

    first = replay()
    assert first == replay() and len(set(first)) == 2
    assert event_id("n1", None, T0) != event_id("n1", None, at(60))
    assert event_id("n1", "cpu.a", T0) != event_id("n2", "cpu.a", T0)


def test_flush_and_expire() -> None:
    tracker = WindowTracker(60)
    tracker.update("n1", LABELS, at(1), host(0.9, True))
    tracker.update("n2", LABELS, at(61), host(0.9, True))
    expired = tracker.expire(at(119))
    assert [e.node_id for e in expired] == ["n1"]
    assert expired[0].detected_at == at(119)
    flushed = tracker.flush(at(121))
    assert [e.node_id for e in flushed] == ["n2"] and tracker.windows == {}


def test_snapshot_restore_mid_window_gives_the_same_events() -> None:
    def feed(tracker: WindowTracker, start: int, stop: int) -> list[str]:
        out = []
        for i in range(start, stop):
            flagged = i % 9 == 0
            score = host(0.9 if flagged else 0.1, flagged, series("cpu.a", 0.85, flagged))
            out += [e.model_dump_json() for e in tracker.update("n1", LABELS, at(10 * i), score)]
        return out

    whole = WindowTracker(60)
    expected = feed(whole, 0, 40)
    part = WindowTracker(60)
    got = feed(part, 0, 22)
    resumed = WindowTracker.restore(part.snapshot())
    assert resumed.snapshot() == part.snapshot()
    assert got + feed(resumed, 22, 40) == expected


def test_restore_rejects_unknown_version() -> None:
    with pytest.raises(ValueError):
        WindowTracker.restore(b'{"version": 99}')


def test_non_finite_contributors_are_dropped() -> None:
    tracker = WindowTracker(60)
    nan_series = series("cpu.nan", 0.0, False, float("nan"))
    tracker.update("n1", LABELS, at(1), host(0.9, True, series("cpu.a", 0.9, True), nan_series))
    (*_, host_event) = tracker.flush(at(2))
    assert [c.metric for c in host_event.contributors] == ["cpu.a"]


@pytest.mark.parametrize(
    ("score", "expected"), [(0.72, "info"), (0.8, "warning"), (0.9, "critical"), (1.0, "critical")]
)
def test_severity_grows_with_the_margin_over_threshold(score: float, expected: str) -> None:
    assert severity(score, 0.7) == expected


def test_window_length_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WindowTracker(0)
