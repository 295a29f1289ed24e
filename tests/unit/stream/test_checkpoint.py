from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.config import StreamSettings
from pipeline.stream.checkpoint import Checkpoints
from pipeline.stream.process import BatchProcessor
from pipeline.stream.state import decode_node
from tests.unit.stream.workload import steady


@dataclass
class FakeEvent:
    partition: int
    offset: int
    acked: bool = False

    def ack(self) -> bool:
        self.acked = True
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def no_context(event: Any) -> Iterator[None]:
    yield


def _checkpoints(table: dict[bytes, bytes], clock: Clock, interval_s: float = 10) -> Checkpoints:
    processor = BatchProcessor(StreamSettings(write_detail=False))
    return Checkpoints(
        table,
        processor.new_model,
        processor.restore_model,
        interval_s,
        event_context=no_context,
        clock=clock,
    )


def _apply(cp: Checkpoints, node_id: str, event: FakeEvent, seq: int) -> float:
    model = cp.model_for(node_id, event)
    processor = BatchProcessor(StreamSettings(write_detail=False))
    score = processor.process_one(model, steady(node_id, seq, 1)[0]).host_score
    model.mark_applied(event.partition, event.offset)
    cp.applied(node_id, event)
    assert score is not None
    return score.score


def test_events_are_acked_only_once_a_save_contains_them() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    events = [FakeEvent(0, i) for i in range(3)]
    for i, event in enumerate(events):
        _apply(cp, "n1", event, i)
        assert not cp.save_one_if_due("n1")
    assert not any(e.acked for e in events) and b"n1" not in table
    clock.now = 10
    assert cp.save_one_if_due("n1")
    assert all(e.acked for e in events)
    assert decode_node(table[b"n1"]).offset == 2


def test_a_node_is_saved_at_most_once_per_interval() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock, interval_s=10)
    saves = 0
    for i in range(40):  # 40 events over 39 s
        clock.now = float(i)
        _apply(cp, "n1", FakeEvent(0, i), i)
        saves += cp.save_one_if_due("n1")
    assert saves == 3


def test_idle_nodes_are_saved_by_save_due_and_forced_saves_skip_the_busy_node() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    a, b = FakeEvent(0, 0), FakeEvent(1, 0)
    _apply(cp, "a", a, 0)
    _apply(cp, "b", b, 0)
    cp.busy = "b"
    assert cp.save_due() == 0
    assert cp.save_due(force=True) == 1
    assert a.acked and not b.acked
    cp.busy = None
    clock.now = 11
    assert cp.save_due() == 1 and b.acked


def test_frozen_checkpoints_do_not_save() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    _apply(cp, "a", FakeEvent(0, 0), 0)
    cp.frozen = True
    clock.now = 100
    assert cp.save_due(force=True) == 0 and not cp.save_one_if_due("a")


def test_a_new_owner_resumes_from_the_table_and_knows_what_it_already_learned() -> None:
    clock, table = Clock(), {}
    first = _checkpoints(table, clock)
    reference = _checkpoints({}, clock)
    for i in range(150):
        _apply(first, "n1", FakeEvent(3, i), i)
        _apply(reference, "n1", FakeEvent(3, i), i)
    first.save_due(force=True)
    # the first owner learns two more messages but dies before saving them
    for i in range(150, 152):
        _apply(first, "n1", FakeEvent(3, i), i)
        _apply(reference, "n1", FakeEvent(3, i), i)
    second = _checkpoints(table, clock)
    model = second.model_for("n1", FakeEvent(3, 140))
    assert model.has_applied(3, 149) and not model.has_applied(3, 150)
    assert not model.has_applied(4, 10)  # another partition's offsets are unrelated
    # re-read 150, 151 (not in the save), then go on: scores equal the uninterrupted owner's
    redo = [_apply(second, "n1", FakeEvent(3, i), i) for i in range(150, 152)]
    assert len(redo) == 2
    for i in range(152, 170):
        assert _apply(second, "n1", FakeEvent(3, i), i) == _apply(
            reference, "n1", FakeEvent(3, i), i
        )


def test_forget_drops_nodes_of_revoked_partitions_and_their_late_events_stay_unacked() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    _apply(cp, "a", FakeEvent(0, 0), 0)
    _apply(cp, "b", FakeEvent(1, 0), 0)
    assert cp.forget({1}) == 1
    assert set(cp.live) == {"a"}
    late = FakeEvent(1, 1)
    cp.applied("b", late)
    assert not late.acked and "b" not in cp.live


def test_unreadable_saved_models_are_relearned() -> None:
    table = {b"n1": b"garbage"}
    cp = _checkpoints(table, Clock())
    model = cp.model_for("n1", FakeEvent(0, 0))
    assert model.offset == -1


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        _checkpoints({}, Clock(), interval_s=0)


def test_a_node_is_saved_only_once_its_points_are_settled_in_the_sink() -> None:
    clock, table = Clock(), {}
    sink = {"settled": 0, "settle_calls": 0}
    processor = BatchProcessor(StreamSettings(write_detail=False))
    cp = Checkpoints(
        table,
        processor.new_model,
        processor.restore_model,
        10,
        event_context=no_context,
        settled=lambda: sink["settled"],
        settle=lambda: sink.__setitem__("settle_calls", sink["settle_calls"] + 1),
        clock=clock,
    )
    event = FakeEvent(0, 0)
    cp.model_for("n1", event)
    cp.applied("n1", event, sink_seq=7)
    clock.now = 20
    assert not cp.save_one_if_due("n1") and cp.save_due() == 0
    assert cp.save_due(force=True) == 0 and sink["settle_calls"] == 1
    assert not event.acked and b"n1" not in table
    sink["settled"] = 7
    assert cp.save_due() == 1 and event.acked
