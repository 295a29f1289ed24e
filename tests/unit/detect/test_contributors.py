"""A host's contributors rank the series that moved furthest for longest, and survive a restore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.detect.host import RobustHostDetector
from pipeline.detect.registry import restore_host_detector
from pipeline.detect.snapshot import decode_snapshot, encode_snapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _sample(rng: np.random.Generator, shift: float = 0.0, spike: float = 0.0) -> dict[str, float]:
    sample = {f"m{j}": 50.0 + float(rng.normal()) for j in range(6)}
    sample["m2"] += shift
    sample["m4"] += spike
    return sample


def _warm(detector: RobustHostDetector, rng: np.random.Generator) -> int:
    for i in range(400):
        detector.process_one(_sample(rng), T0 + timedelta(seconds=60 * i))
    return 400


def test_a_sustained_deviation_outranks_a_bigger_but_single_spike() -> None:
    rng = np.random.default_rng(1)
    detector = RobustHostDetector()
    i = _warm(detector, rng)
    for k in range(15):  # m2 sits 6 sigma off for 15 samples
        detector.process_one(_sample(rng, shift=6.0), T0 + timedelta(seconds=60 * (i + k)))
    # ...then m4 spikes once, far higher, while m2 is still off.
    last = detector.process_one(_sample(rng, 6.0, 12.0), T0 + timedelta(seconds=60 * (i + 15)))
    assert last.series["m4"].score > last.series["m2"].score
    assert [s.metric for s in last.contributors(2)] == ["m2", "m4"]


def test_contribution_ranking_survives_a_snapshot_and_old_snapshots_start_it_at_zero() -> None:
    rng = np.random.default_rng(2)
    detector = RobustHostDetector()
    i = _warm(detector, rng)
    for k in range(10):
        detector.process_one(_sample(rng, shift=8.0), T0 + timedelta(seconds=60 * (i + k)))
    restored = restore_host_detector(detector.snapshot())
    assert isinstance(restored, RobustHostDetector)
    assert np.array_equal(restored.deviation[:6], detector.deviation[:6])
    assert restored.deviation[restored.slots.position["m2"]] > 1.0
    kind, meta, arrays = decode_snapshot(detector.snapshot())
    meta["state_version"] = 3
    del arrays["deviation"]
    older = restore_host_detector(encode_snapshot(kind, meta, arrays))
    assert isinstance(older, RobustHostDetector)
    assert not older.deviation.any()
