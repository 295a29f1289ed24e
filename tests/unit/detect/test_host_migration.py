"""The default host detector restores v1 snapshots (half-space trees) and rejects unknown ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pipeline.detect.host import SUSTAINED, RobustHostDetector
from pipeline.detect.registry import restore_host_detector
from pipeline.detect.snapshot import decode_snapshot, encode_snapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _trained() -> RobustHostDetector:
    detector = RobustHostDetector()
    rng = np.random.default_rng(0)
    for i in range(200):
        sample = {f"cpu.m{j}": 10.0 * j + float(rng.normal()) for j in range(3)}
        detector.process_one(sample, T0 + timedelta(seconds=10 * i))
    return detector


def _as_version(raw: bytes, version: int) -> bytes:
    """The same state as an older or unknown release lays it out (trees, no covariance)."""
    kind, meta, arrays = decode_snapshot(raw)
    meta["state_version"] = version
    meta["params"] |= {"n_trees": 16, "height": 6, "window_size": 250, "seed": 42}
    gone = ("covariance.", "series.low", "series.high")
    arrays = {k: v for k, v in arrays.items() if not k.startswith(gone)}
    arrays["trees.counters"] = np.array([3, 1], dtype=np.int64)
    return encode_snapshot(kind, meta, arrays)


def test_v1_snapshot_keeps_series_models_and_restarts_the_covariance() -> None:
    original = _trained()
    restored = restore_host_detector(_as_version(original.snapshot(), 1))
    assert isinstance(restored, RobustHostDetector)
    for field, values in original.state.items():
        if field not in ("low", "high"):
            assert np.array_equal(restored.state[field], values[: len(restored.state[field])])
    level, scale = restored.state["level"], restored.state["scale"]
    assert np.array_equal(restored.state["high"], level + 3.0 * scale)
    assert restored.host[SUSTAINED] == 0.0
    assert restored.covariance.count == 0
    probe = {"cpu.m0": 0.0, "cpu.m1": 10.0, "cpu.m2": 60.0}
    result = restored.process_one(probe, T0 + timedelta(seconds=2_000))
    assert result.series["cpu.m2"].flagged  # series models carried over: no new warm-up


def test_unknown_state_version_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="v9"):
        restore_host_detector(_as_version(_trained().snapshot(), 9))
