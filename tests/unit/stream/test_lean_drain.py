"""The lean input path's consumer loop: Faust's offset rules kept, ``fleet.metrics`` buffered."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from faust.streams import Stream
from faust.transport.conductor import ConductorCompiler
from faust.transport.consumer import Consumer
from faust.types import TP

from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import make_worker
from pipeline.stream.consumer import FleetConsumer
from pipeline.stream.lean_input import LeanInput
from tests.unit.stream.test_consumer import (
    CHANGELOG,
    INPUT,
    FetchingPartitions,
    Record,
    Stopped,
)


class Backlog(FetchingPartitions):
    """Partitions whose fetches find nothing once the batches given are read."""

    async def getmany(self, active_partitions: object, timeout: float) -> dict[TP, list[Record]]:
        if not self.batches:
            await asyncio.sleep(0.001)
            return {}
        return await super().getmany(active_partitions, timeout)


def _lean_consumer(partitions: Backlog, capacity: int) -> tuple[FleetConsumer, LeanInput]:
    stream = StreamSettings(store="memory", input="lean")
    worker = make_worker(KafkaSettings(), TopicSettings(prefix="unit."), stream, InfluxSettings())
    consumer = worker.app.consumer
    assert isinstance(consumer, FleetConsumer)
    assert consumer.lean is not None and consumer.lean.topic == INPUT.topic
    consumer.lean = LeanInput(INPUT.topic, capacity)
    consumer._thread = partitions  # noqa: SLF001 - the broker side of Faust's consumer
    consumer.flow_active = True  # as after a rebalance (resume_flow would need Faust's loop)
    consumer._set_active_tps(partitions.assignment())  # noqa: SLF001 - as after a rebalance
    worker.app.flow_control.resume()
    return consumer, consumer.lean


async def _until(done: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not done():
            await asyncio.sleep(0.001)


async def _stop(drain: asyncio.Future[None], fetcher: Stopped) -> None:
    fetcher._stopped.set()  # noqa: SLF001 - ends the drain loop
    await asyncio.wait_for(drain, 10)


def test_the_input_topic_is_buffered_tracked_and_other_topics_go_to_fausts_conductor() -> None:
    async def scenario() -> tuple[list[Any], list[int]]:
        partitions = Backlog({INPUT: 40, CHANGELOG: None})
        consumer, lean = _lean_consumer(partitions, capacity=10)
        partitions.batches = [
            {INPUT: [Record(INPUT, o) for o in (40, 41)], CHANGELOG: [Record(CHANGELOG, 3)]},
            {INPUT: [Record(INPUT, 40), Record(INPUT, 42)]},  # 40 again: dropped, as Faust does
        ]
        conducted: list[int] = []

        async def conductor(message: Any) -> None:
            conducted.append(message.offset)

        consumer.callback = conductor
        fetcher = Stopped()
        drain = asyncio.ensure_future(consumer._drain_messages(fetcher))  # noqa: SLF001
        await _until(lambda: len(lean) == 3)
        await _stop(drain, fetcher)
        messages = await lean.take(10, within_s=0.01)
        assert all(m in consumer.unacked and m.refcount == 1 for m in messages)
        return messages, conducted

    messages, conducted = asyncio.run(scenario())
    assert [m.offset for m in messages] == [40, 41, 42]
    assert conducted == [3]  # the changelog, for table recovery


def test_a_full_buffer_holds_the_fetch_back_and_a_stopped_flow_abandons_the_delivery() -> None:
    # As Faust's delivery to a full channel queue: it waits, and a rebalance's stop_flow ends
    # the wait with the message undelivered (the seek that follows reads it again).
    async def scenario() -> tuple[list[int], int | None]:
        partitions = Backlog({INPUT: 40})
        consumer, lean = _lean_consumer(partitions, capacity=1)
        partitions.batches = [{INPUT: [Record(INPUT, o) for o in (40, 41, 42)]}]
        drain = asyncio.ensure_future(consumer._drain_messages(Stopped()))  # noqa: SLF001
        await _until(lambda: len(lean) == 1)
        await asyncio.sleep(0.05)  # 41 waits for room
        consumer.stop_flow()
        await _until(lambda: consumer._read_offset[INPUT] == 41)  # noqa: SLF001
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain
        read = consumer._read_offset[INPUT]  # noqa: SLF001 - Faust's drain state
        return [m.offset for m in await lean.take(10, within_s=0.01)], read

    held, read = asyncio.run(scenario())
    assert held == [40]
    assert read == 41  # marked read as Faust marks an abandoned delivery; 42 never handed out


def test_a_delivery_waiting_across_a_seek_leaves_the_partition_read_from_the_seek() -> None:
    # 46 waits for room while the worker takes 45 and the partition is sought back to 40: both
    # were handed out before the seek (overtaken: the worker skips them), and the seek's re-read
    # of 40-46 reaches the buffer instead of being dropped below 46.
    async def scenario() -> list[tuple[int, bool]]:
        partitions = Backlog({INPUT: 40})
        consumer, lean = _lean_consumer(partitions, capacity=1)
        partitions.batches = [
            {INPUT: [Record(INPUT, o) for o in (45, 46)]},  # from where the fetcher was
            {INPUT: [Record(INPUT, o) for o in range(40, 47)]},  # the seek's re-read
        ]
        fetcher = Stopped()
        drain = asyncio.ensure_future(consumer._drain_messages(fetcher))  # noqa: SLF001
        taken: list[tuple[int, bool]] = []
        while len(taken) < 9:
            for message in await asyncio.wait_for(lean.take(1, within_s=0.01), 10):
                if not taken:
                    await consumer.perform_seek()
                taken.append((message.offset, consumer.overtaken(message)))
        await _stop(drain, fetcher)
        return taken

    taken = asyncio.run(scenario())
    assert taken == [(45, True), (46, True)] + [(o, False) for o in range(40, 47)]


def test_fausts_delivery_still_has_the_steps_the_lean_drain_copies() -> None:
    # lean_drain.py repeats Faust's drain loop and the Conductor's waits and bookkeeping; this
    # fails if a Faust upgrade changes them, so the copy is read again.
    drain = inspect.getsource(Consumer._drain_messages)
    for step in (
        "callback(message), self.suspend_flow.wait()",
        "if r_offset is None or offset >= r_offset:",
        "await self._add_gap(tp, r_offset + 1, offset)",
        "if self._n_acked >= commit_every:",
        "set_read_offset(tp, offset)",
    ):
        assert step in drain, step
    conductor = inspect.getsource(ConductorCompiler.build)
    for step in ("await acquire_flow_control()", "await wait_until_producer_ebb()"):
        assert step in conductor, step
    stream = inspect.getsource(Stream._py_aiter)
    assert "add_unacked(message)" in stream and "on_message_in(" in stream
