"""Messages reach Faust acknowledged in offset order per partition, whatever order they finish."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pipeline.stream.acks import AckOrder


def _event(partition: int, offset: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(tp=("fleet.metrics", partition), offset=offset))


def _order() -> tuple[AckOrder, list[tuple[int, int]]]:
    handed: list[tuple[int, int]] = []
    order = AckOrder(lambda e: handed.append((e.message.tp[1], e.message.offset)))
    return order, handed


def test_a_later_message_waits_for_every_earlier_one_of_its_partition() -> None:
    order, handed = _order()
    a0, b1, a2 = _event(0, 0), _event(0, 1), _event(0, 2)
    for event in (a0, b1, a2):
        order.track(event)
    order.done(a2)  # node A saved first: its later message may not be committed past B's
    order.done(a0)
    assert handed == [(0, 0)]
    order.done(b1)
    assert handed == [(0, 0), (0, 1), (0, 2)]
    assert order.waiting == 0


def test_partitions_do_not_wait_for_each_other() -> None:
    order, handed = _order()
    p0, p1 = _event(0, 7), _event(1, 3)
    order.track(p0)
    order.track(p1)
    order.done(p1)
    assert handed == [(1, 3)]


def test_after_a_rebalance_nothing_read_before_it_is_acknowledged() -> None:
    order, handed = _order()
    before = _event(0, 5)
    order.track(before)
    order.forget()
    order.done(before)  # its node saved late: the partition was sought back, it is read again
    again = _event(0, 5)
    order.track(again)
    order.done(again)
    assert handed == [(0, 5)]
    assert order.waiting == 0


def test_an_untracked_message_is_never_acknowledged() -> None:
    order, handed = _order()
    order.done(_event(0, 1))
    assert handed == []
