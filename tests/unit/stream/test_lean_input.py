"""The lean input's buffer and events: bounded, in order, acknowledged as Faust's events are."""

from __future__ import annotations

import asyncio
import weakref

import pytest
from faust import current_event as fausts_current_event
from faust.types import TP
from faust.types.tuples import ConsumerMessage
from mode.utils.queues import FlowControlEvent

from pipeline.stream.faust_event import current_event
from pipeline.stream.lean_input import LeanEvent, LeanInput

INPUT = TP("unit.fleet.metrics", 0)


def _message(offset: int) -> ConsumerMessage:
    return ConsumerMessage(
        INPUT.topic, INPUT.partition, offset, 0.0, 0, [], b"k", b"v%d" % offset, None, 1, 1,
        INPUT, generation_id=1,
    )  # fmt: skip


def test_a_full_buffer_refuses_until_a_take_makes_room() -> None:
    async def scenario() -> tuple[list[bool], list[int], bool]:
        lean = LeanInput(INPUT.topic, capacity=3)
        offered = [lean.offer(o) for o in range(4)]
        taken = await lean.take(2, within_s=0.01)
        return offered, taken, lean.offer(9)

    offered, taken, after = asyncio.run(scenario())
    assert offered == [True, True, True, False]  # the fourth is not appended, nor lost: refused
    assert taken == [0, 1]
    assert after


def test_a_take_returns_the_chunk_as_soon_as_it_is_full() -> None:
    async def scenario() -> list[int]:
        lean = LeanInput(INPUT.topic, capacity=100)
        take = asyncio.ensure_future(lean.take(3, within_s=60))
        for offset in range(5):
            await asyncio.sleep(0)
            lean.offer(offset)
        return await asyncio.wait_for(take, 5)  # not the 60 s wait

    assert asyncio.run(scenario()) == [0, 1, 2]


def test_a_take_returns_a_partial_chunk_once_its_wait_ends() -> None:
    async def scenario() -> list[int]:
        lean = LeanInput(INPUT.topic, capacity=100)
        take = asyncio.ensure_future(lean.take(50, within_s=0.05))
        await asyncio.sleep(0)
        lean.offer(1)
        return await asyncio.wait_for(take, 5)

    assert asyncio.run(scenario()) == [1]


def test_a_waiting_producer_resumes_once_a_take_makes_room() -> None:
    async def scenario() -> tuple[bool, list[int], list[int]]:
        lean = LeanInput(INPUT.topic, capacity=2)
        lean.offer(0)
        lean.offer(1)
        room = asyncio.ensure_future(lean.wait_room())
        await asyncio.sleep(0.01)
        waited = not room.done()
        first = await lean.take(1, within_s=0.01)
        await asyncio.wait_for(room, 5)
        lean.offer(2)
        return waited, first, await lean.take(10, within_s=0.01)

    waited, first, rest = asyncio.run(scenario())
    assert waited
    assert first == [0]
    assert rest == [1, 2]


def test_clearing_drops_what_is_held_and_frees_a_waiting_producer() -> None:
    async def scenario() -> tuple[int, bool]:
        lean = LeanInput(INPUT.topic, capacity=1)
        lean.offer(0)
        room = asyncio.ensure_future(lean.wait_room())
        await asyncio.sleep(0)
        lean.clear()
        await asyncio.wait_for(room, 5)
        return len(lean), lean.offer(1)

    assert asyncio.run(scenario()) == (0, True)


def test_flow_control_clears_it_as_it_clears_channel_queues() -> None:
    # The worker relies on this at a revocation: Faust clears the queues its flow control
    # manages before the seek, and the buffer is one of them.
    flow_control = FlowControlEvent(initially_suspended=False)
    lean = LeanInput(INPUT.topic, capacity=4)
    flow_control.manage_queue(lean)  # type: ignore[arg-type]  # a channel queue's duties
    lean.offer(0)
    lean.offer(1)
    flow_control.clear()
    assert len(lean) == 0


def test_a_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LeanInput(INPUT.topic, capacity=0)


class Consumer:
    """Records what Faust's ``Message.ack`` hands its consumer on the final reference."""

    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, message: ConsumerMessage) -> bool:
        message.acked = True  # as Faust's Consumer.ack
        self.acked.append(message.offset)
        return True


def test_an_event_acks_its_message_once_like_fausts_event() -> None:
    consumer = Consumer()
    message = _message(5)
    message.incref()  # the reference the lean delivery holds
    event = LeanEvent(message, consumer)
    assert event.value == b"v5"
    assert event.ack()
    assert not event.ack()  # acked already: Faust's Message.ack does nothing twice
    assert consumer.acked == [5]


def test_an_event_can_be_fausts_current_event() -> None:
    # Faust's tables route a write by the current event, held through a weak reference.
    event = LeanEvent(_message(3), Consumer())
    assert weakref.ref(event)() is event
    with current_event(event):
        assert fausts_current_event() is event
