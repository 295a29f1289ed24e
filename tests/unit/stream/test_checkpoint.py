"""Checkpoints: when node models are saved and so when their messages are acknowledged."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.config import StreamSettings
from pipeline.stream.checkpoint import Checkpoints, Saving
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


class PointSink:
    """A sink whose items settle when the test says: the ``Sink`` contract, in memory."""

    def __init__(self, settled: int = 0) -> None:
        self.added = 0
        self.settled = settled
        self.flushes = 0

    def start(self) -> None:
        pass

    def add_many(self, items: Any) -> int:
        self.added += len(list(items))
        return self.added

    def flush(self, timeout_s: float = 10.0) -> bool:
        self.flushes += 1
        return self.settled >= self.added

    def close(self, timeout_s: float = 10.0) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def no_context(event: Any) -> Iterator[None]:
    yield


def _checkpoints(
    table: dict[bytes, bytes], clock: Clock, interval_s: float = 10, sink: PointSink | None = None
) -> Checkpoints:
    processor = BatchProcessor(StreamSettings(write_detail=False))
    return Checkpoints(
        table,
        processor.new_model,
        processor.restore_model,
        interval_s,
        sink=sink or PointSink(settled=sys.maxsize),
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


def test_idle_nodes_are_saved_by_save_due_but_not_the_node_being_processed() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    a, b = FakeEvent(0, 0), FakeEvent(1, 0)
    _apply(cp, "a", a, 0)
    _apply(cp, "b", b, 0)
    clock.now = 11
    with cp.processing("b", FakeEvent(1, 1)):
        assert [node for node, _ in cp.quiet(0)] == ["a"]
        assert cp.save_due() == 1
    assert a.acked and not b.acked
    assert cp.save_due() == 1 and b.acked


def test_a_freeze_saves_nothing_itself() -> None:
    # Faust calls it from its consumer thread: a save there would race the event loop.
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    event = FakeEvent(0, 0)
    _apply(cp, "a", event, 0)
    clock.now = 100
    cp.freeze()
    assert not event.acked and table == {} and cp.save_due() == 0
    cp.thaw()
    assert cp.save_due() == 1 and event.acked


def test_a_frozen_node_is_not_saved_until_thawed_and_never_after_close() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    cp.freeze()
    assert cp.saving is Saving.FROZEN
    event = FakeEvent(0, 0)
    _apply(cp, "a", event, 0)
    clock.now = 100
    cp.freeze()
    assert cp.save_due() == 0 and not cp.save_one_if_due("a")
    assert cp.close() == 0 and cp.closed
    cp.thaw()  # a late end of the rebalance does not reopen a stopped worker
    assert cp.saving is Saving.CLOSED and cp.save_due() == 0 and not event.acked


def test_close_saves_every_dirty_node_once_then_nothing_more() -> None:
    clock, table = Clock(), {}
    cp = _checkpoints(table, clock)
    first, late = FakeEvent(0, 0), FakeEvent(0, 1)
    _apply(cp, "a", first, 0)
    assert cp.close() == 1 and first.acked
    _apply(cp, "a", late, 1)  # processed while Faust winds down
    clock.now = 100
    assert cp.save_due() == 0 and not cp.save_one_if_due("a") and not late.acked


def test_a_new_owner_resumes_from_the_table_and_knows_what_it_already_learned() -> None:
    clock, table = Clock(), {}
    first = _checkpoints(table, clock)
    reference = _checkpoints({}, clock)
    for i in range(150):
        _apply(first, "n1", FakeEvent(3, i), i)
        _apply(reference, "n1", FakeEvent(3, i), i)
    first.close()
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
    clock, table, sink = Clock(), {}, PointSink()
    cp = _checkpoints(table, clock, sink=sink)
    event, later = FakeEvent(0, 0), FakeEvent(0, 1)
    cp.model_for("n1", event)
    cp.applied("n1", event, sink_seq=sink.add_many(range(7)))
    cp.applied("n1", later)  # no points of its own: the node still waits for the earlier ones
    clock.now = 20
    assert not cp.save_one_if_due("n1") and cp.save_due() == 0
    assert not event.acked and b"n1" not in table
    sink.settled = 7
    assert cp.save_due() == 1 and event.acked and later.acked


def test_a_stop_waits_for_the_sink_then_leaves_unsettled_nodes_to_be_re_read() -> None:
    clock, table, sink = Clock(), {}, PointSink()
    cp = _checkpoints(table, clock, sink=sink)
    event = FakeEvent(0, 0)
    cp.model_for("n1", event)
    cp.applied("n1", event, sink_seq=sink.add_many(range(7)))
    assert cp.close() == 0 and sink.flushes == 1
    assert not event.acked and b"n1" not in table


def test_windows_closed_by_the_clock_wait_for_their_points_too() -> None:
    clock, table, sink = Clock(), {}, PointSink(settled=0)
    cp = _checkpoints(table, clock, sink=sink)
    event = FakeEvent(0, 0)
    cp.model_for("n1", event)
    cp.applied("n1", event)
    clock.now = 20
    cp.touched("n1", sink_seq=sink.add_many(["anomaly point"]))
    assert cp.save_due() == 0
    sink.settled = 1
    assert cp.save_due() == 1 and event.acked
