from __future__ import annotations

from datetime import timedelta

from pipeline.config import StreamSettings
from pipeline.models import AnomalyEvent
from pipeline.stream.process import BatchProcessor
from pipeline.stream.state import NodeModel, encode_node
from tests.conftest import BASE_TIME
from tests.unit.stream.workload import STEP_S, batch_at, steady

WARM = 400


def _run(processor: BatchProcessor, model: NodeModel, batches: list) -> list[AnomalyEvent]:
    events: list[AnomalyEvent] = []
    for batch in batches:
        events.extend(processor.process_one(model, batch).events)
    return events


def test_injected_fault_becomes_a_series_event_of_that_metric_and_window() -> None:
    processor = BatchProcessor(StreamSettings(window_s=60, write_detail=False))
    model = processor.new_model()
    quiet = _run(processor, model, steady("n1", 0, WARM))
    assert not [e for e in quiet if e.metric == "cpu.usage_user"]
    fault_seq = WARM + 3
    batches = [batch_at("n1", WARM + i, fault=95.0 if i in (3, 4) else None) for i in range(20)]
    events = _run(processor, model, batches)
    cpu = [e for e in events if e.scope == "series" and e.metric == "cpu.usage_user"]
    assert len(cpu) == 1
    fault_at = BASE_TIME + timedelta(seconds=STEP_S * fault_seq)
    assert cpu[0].window_start_at <= fault_at < cpu[0].window_end_at
    assert (cpu[0].window_end_at - cpu[0].window_start_at).total_seconds() == 60
    assert cpu[0].node_id == "n1" and cpu[0].observed == 95.0


def test_restored_model_scores_exactly_as_the_uninterrupted_one() -> None:
    processor = BatchProcessor(StreamSettings(window_s=60, write_detail=False))
    uninterrupted = processor.new_model()
    interrupted = processor.new_model()
    for batch in steady("n1", 0, 200):
        processor.process_one(uninterrupted, batch)
        processor.process_one(interrupted, batch)
    interrupted.mark_applied(2, 199)
    restored = processor.restore_model(encode_node(interrupted))
    assert (restored.partition, restored.offset) == (2, 199)
    for batch in steady("n1", 200, 50) + [batch_at("n1", 250, fault=90.0)]:
        expected = processor.process_one(uninterrupted, batch).host_score
        actual = processor.process_one(restored, batch).host_score
        assert actual is not None and expected is not None
        assert actual.score == expected.score
        assert actual.flagged == expected.flagged


def test_detail_points_are_downsampled_by_sample_time() -> None:
    processor = BatchProcessor(StreamSettings(detail_every_s=60))
    model = processor.new_model()
    with_points = [bool(processor.process_one(model, b).points) for b in steady("n1", 0, 12)]
    assert with_points == [True, False, False, False, False, False] * 2


def test_detail_can_be_switched_off_and_every_batch_written_by_default() -> None:
    off = BatchProcessor(StreamSettings(write_detail=False))
    assert not off.process_one(off.new_model(), batch_at("n1", 0)).points
    every = BatchProcessor(StreamSettings())
    model = every.new_model()
    counts = [len(every.process_one(model, b).points) for b in steady("n1", 0, 3)]
    assert counts == [3 + 4] * 3  # three metrics, host score and three series scores
