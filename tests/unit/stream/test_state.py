"""Saved node bytes: batch ids survive a save, and v1 snapshots (without them) still load."""

from __future__ import annotations

import struct
import uuid

import pytest

from pipeline.config import StreamSettings
from pipeline.stream.process import BatchProcessor
from pipeline.stream.state import MAGIC, RECENT_BATCHES, decode_node, encode_node
from tests.unit.stream.workload import batch_at

PROCESSOR = BatchProcessor(StreamSettings(write_detail=False))


def test_recent_batch_ids_survive_a_save_and_only_the_latest_are_kept() -> None:
    model = PROCESSOR.new_model()
    ids = [uuid.uuid4() for _ in range(RECENT_BATCHES + 5)]
    for offset, batch_id in enumerate(ids):
        model.mark_applied(0, offset, batch_id)
    restored = PROCESSOR.restore_model(encode_node(model))
    assert restored.offset == len(ids) - 1
    assert all(restored.has_learned_batch(batch_id) for batch_id in ids[5:])
    assert not any(restored.has_learned_batch(batch_id) for batch_id in ids[:5])


def test_a_v1_snapshot_loads_with_no_batch_ids() -> None:
    model = PROCESSOR.new_model()
    batch = batch_at("n1", 0)
    PROCESSOR.process_one(model, batch)
    model.mark_applied(3, 41, batch.batch_id)
    detector, windows = model.detector.snapshot(), model.windows.snapshot()
    v1 = struct.pack(">4sHiqII", MAGIC, 1, 3, 41, len(detector), len(windows)) + detector + windows
    restored = PROCESSOR.restore_model(v1)
    assert (restored.partition, restored.offset) == (3, 41)
    assert not restored.has_learned_batch(batch.batch_id)
    assert restored.detector.step == model.detector.step


@pytest.mark.parametrize("cut", [1, 16])
def test_truncated_batch_ids_are_refused(cut: int) -> None:
    model = PROCESSOR.new_model()
    model.mark_applied(0, 0, uuid.uuid4())
    with pytest.raises(ValueError, match="length|truncated"):
        decode_node(encode_node(model)[:-cut])
