"""How the per-series model follows slow, quiet series: cold start, daily profile, sampling rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.detect.host import RobustHostDetector

T0 = datetime(2026, 1, 1, 8, 2, 16, tzinfo=UTC)


def _quiet_disk(steps: int, seed: int = 0) -> list[float]:
    """A disk that holds still at 60 %, with noise of 0.002 % (a near-constant series)."""
    rng = np.random.default_rng(seed)
    return [60.0 + rng.normal(0, 0.002) for _ in range(steps)]


def _filling_disk(steps: int, interval_s: float, start: int, rate_per_h: float) -> list[float]:
    """The quiet disk, filling at ``rate_per_h`` points an hour from sample ``start`` on."""
    fill = [max(i - start, 0) * interval_s / 3600 * rate_per_h for i in range(steps)]
    return [min(100.0, v + f) for v, f in zip(_quiet_disk(steps), fill, strict=True)]


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
    _, flags = _run(_quiet_disk(1080), 10.0)
    assert not any(flags)


def test_a_disk_filling_slowly_is_flagged_long_before_it_is_full() -> None:
    # 1 %/h from 60 % after two quiet hours: the level model alone would absorb the ramp into
    # its level and trend; the drift test and the capacity forecast must not.
    values = _filling_disk(2 * 360 + 30 * 360, 10.0, start=2 * 360, rate_per_h=1.0)
    _, flags = _run(values, 10.0)
    first = flags.index(True)
    assert first >= 2 * 360  # nothing before the fill
    assert values[first] < 90.0


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
