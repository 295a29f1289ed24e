"""Behaviour of the default host detector's two host figures: sustained score and onset alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.detect.base import HostScore
from pipeline.detect.host import HOST_DETECTOR, RobustHostDetector

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _host(steps: int, shift_from: int, shift: float, seed: int = 0) -> list[dict[str, float]]:
    """50 noisy series; from ``shift_from`` on, every one moves by ``shift`` of its own sigma."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(steps):
        moved = shift if i >= shift_from else 0.0
        rows.append({f"app.m{j:02d}": 100.0 + j + rng.normal() + moved for j in range(50)})
    return rows


def test_joint_deviation_no_series_shows_alone_raises_a_host_alert() -> None:
    detector = RobustHostDetector()
    results = [
        detector.process_one(x, T0 + timedelta(seconds=10 * i))
        for i, x in enumerate(_host(900, 800, 1.5))
    ]
    before, after = results[700:800], results[800:805]
    assert not any(r.flagged for r in before)
    assert any(r.flagged and r.detector == HOST_DETECTOR for r in after)
    assert max(r.series[m].score for r in after for m in r.series) < 0.7  # no series alone


def test_sustained_score_stays_up_while_onset_reports_once() -> None:
    detector = RobustHostDetector()
    results = [
        detector.process_one(x, T0 + timedelta(seconds=10 * i))
        for i, x in enumerate(_host(900, 800, 4.0, seed=1))
    ]
    quiet = max(r.score for r in results[600:800])
    assert min(r.score for r in results[805:830]) > quiet  # above every quiet-time value
    onsets = [i for i, r in enumerate(results[800:], start=800) if r.onset]
    assert onsets and onsets[0] <= 802 and len(onsets) <= 5


def _young_host_then(jump: float) -> HostScore:
    """A 200-sample host of one noisy series, then one value ``jump`` sigmas above its level."""
    rng = np.random.default_rng(0)
    detector = RobustHostDetector()
    for i in range(200):
        detector.process_one(
            {"app.latency_ms": 50.0 + rng.normal()}, T0 + timedelta(seconds=10 * i)
        )
    return detector.process_one({"app.latency_ms": 50.0 + jump}, T0 + timedelta(seconds=2000))


def test_young_host_alert_needs_surprise_not_only_a_new_extreme() -> None:
    # Four usual surprises beyond a range of 200 samples: the novelty of a young range carries
    # the onset over the young floor, which the surprise alone (seven usual ones) does not reach.
    modest = _young_host_then(10.0)
    assert modest.onset is not None and modest.onset >= modest.threshold
    assert modest.series["app.latency_ms"].score < modest.threshold
    assert not modest.flagged
    wild = _young_host_then(40.0)
    assert wild.series["app.latency_ms"].score >= wild.threshold and wild.flagged
