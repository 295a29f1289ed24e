"""How the per-series model follows slow, quiet series: cold start, daily profile, sampling rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.detect.host import RobustHostDetector

T0 = datetime(2026, 1, 1, 8, 2, 16, tzinfo=UTC)


def _slow_disk(steps: int, interval_s: float, seed: int = 0) -> list[float]:
    """A disk filling by logs: 60 % plus 0.05 %/h, noise of 0.002 % (a near-constant series)."""
    rng = np.random.default_rng(seed)
    return [60.0 + 0.05 * i * interval_s / 3600 + rng.normal(0, 0.002) for i in range(steps)]


def _run(values: list[float], interval_s: float) -> tuple[RobustHostDetector, list[bool]]:
    detector = RobustHostDetector()
    flags = []
    for i, value in enumerate(values):
        at = T0 + timedelta(seconds=interval_s * i)
        result = detector.process_one({"disk.root.used_percent": value}, at)
        flags.append(result.series["disk.root.used_percent"].flagged)
    return detector, flags


def test_first_sample_gives_no_trend() -> None:
    detector, _ = _run([60.0], 10.0)
    assert detector.state["trend"][0] == 0.0
    assert detector.state["level"][0] == 60.0


def test_quiet_series_sampled_every_10_s_never_flags_across_hour_boundaries() -> None:
    # Three simulated hours: the daily profile changes bin twice.
    _, flags = _run(_slow_disk(1080, 10.0), 10.0)
    assert not any(flags)


def test_level_shift_of_dense_samples_moves_the_level_not_the_daily_profile() -> None:
    # 10 s samples: an hour's bin of the daily profile sees 360 of them in one visit, so a profile
    # learning per sample would take up half of a new level within that hour.
    rng = np.random.default_rng(1)
    values = [50.0 + (5.0 if i >= 1080 else 0.0) + rng.normal(0, 0.5) for i in range(1440)]
    detector, _ = _run(values, 10.0)
    assert abs(detector.state["level"][0] - 55.0) < 0.5
    assert np.abs(detector.state["season"][0]).max() < 0.5


def test_ordinary_noise_raises_nothing_right_after_warm_up() -> None:
    # A new host of 30 noisy series: the first minutes after warm-up are where an uncalibrated
    # surprise (starting at 0) and a young value range (new extremes every few samples) alarm.
    rng = np.random.default_rng(3)
    detector = RobustHostDetector()
    alarms = 0
    for i in range(300):
        metrics = {f"app.m{j:02d}": 50.0 + j + rng.normal(0, 1.0 + j / 10) for j in range(30)}
        result = detector.process_one(metrics, T0 + timedelta(seconds=10 * i))
        alarms += result.flagged + len(result.flagged_series())
    assert alarms == 0
