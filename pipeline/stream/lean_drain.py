"""Faust's consumer loop with ``fleet.metrics`` handed straight to a :class:`LeanInput`.

Faust's ``Consumer._drain_messages`` delivers every fetched message through
``wait_first(callback(message), suspend_flow.wait())`` (four tasks a message) to the Conductor,
which waits for flow control and the producer buffer, makes an event and puts it in a channel
queue for a stream. :func:`drain` is that loop, unchanged for every other topic (changelogs,
peers) and for the offset rules (dropped re-fetches, gaps, ``commit_every``, the read offset set
after each delivery), while a message of the lean topic is appended to the buffer in place when
the Conductor's delivery would not wait (flow active, producer buffer ebbed, room in the buffer,
flow not suspended); else it takes the Conductor's route: the same waits, under the same
``wait_first``, so a suspended flow abandons it exactly as it abandons Faust's delivery.
``tests/unit/stream/test_lean_drain.py`` fails if Faust changes the parts this copies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING

from pipeline.stream.lean_input import LeanInput

# As Faust's loop: give the event loop a turn after this many messages of one fetch.
YIELD_EVERY = 100


class LeanDelivery:
    """Hands messages of one topic to ``lean`` with Faust's bookkeeping, as the Conductor would.

    Parameters
    ----------
    consumer
        Faust's consumer (its ``app``: flow control and producer buffer).
    lean
        Where the topic's messages go.
    """

    def __init__(self, consumer: Any, lean: LeanInput) -> None:
        self.consumer = consumer
        self.lean = lean
        self._flow = consumer.app.flow_control
        self._producer_buffer = consumer.app.producer.buffer

    def ready(self) -> bool:
        """True when the Conductor's delivery would not wait now."""
        buffer = self._producer_buffer
        return (
            self._flow.is_active()
            and buffer.size <= buffer.max_messages
            and not self.lean.full
            and not self.consumer.suspend_flow.is_set()
        )

    def now(self, message: Any) -> None:
        """Track ``message`` (pending acknowledgement, sensors), hold one reference, append it."""
        message.incref()
        message.tracked = True
        self.consumer.track_message(message)
        self.lean.offer(message)

    async def later(self, message: Any) -> None:
        """The Conductor's waits (flow control, producer buffer), then room; then :meth:`now`."""
        await self._flow.acquire()
        await self._producer_buffer.wait_until_ebb()
        await self.lean.wait_room()
        self.now(message)  # no await since the room was seen: it is still there


async def drain(consumer: Any, fetcher: Any, delivery: LeanDelivery) -> None:
    """Faust's ``_drain_messages`` for ``consumer``, the lean topic delivered by ``delivery``."""
    consumer_stopped = consumer._stopped.is_set  # noqa: SLF001 - as Faust's loop reads it
    fetcher_stopped = fetcher._stopped.is_set  # noqa: SLF001
    diag = consumer.diag
    try:
        while not (consumer_stopped() or fetcher_stopped()):
            diag.set_flag(CONSUMER_FETCHING)
            records = consumer.getmany(timeout=1.0)
            await consumer.sleep(0)  # getmany may return at once in a loop, as Faust notes
            if not consumer.should_stop:
                await _deliver_fetched(consumer, records, delivery)
            diag.unset_flag(CONSUMER_FETCHING)
    except consumer.consumer_stopped_errors:
        if consumer.transport.app.should_stop:
            return
        raise
    except asyncio.CancelledError:
        if consumer.transport.app.should_stop:
            return
        raise
    finally:
        diag.unset_flag(CONSUMER_FETCHING)


async def _deliver_fetched(consumer: Any, records: Any, delivery: LeanDelivery) -> None:
    """One fetch's messages, each delivered once at or past its partition's read offset."""
    read_offset = consumer._read_offset  # noqa: SLF001 - Faust's drain state, kept as it keeps it
    lean_topic = delivery.lean.topic
    since_yield = 0
    async for tp, message in records:
        since_yield += 1
        if since_yield > YIELD_EVERY:
            await asyncio.sleep(0)
            since_yield = 0
        offset = message.offset
        read = read_offset[tp]
        if read is not None and offset < read:
            continue  # re-fetched below what was delivered: Faust drops it too
        await _before_delivery(consumer, tp, message, read)
        if message.topic != lean_topic:
            await consumer.wait_first(consumer.callback(message), consumer.suspend_flow.wait())
        elif delivery.ready():
            delivery.now(message)
        else:
            await consumer.wait_first(delivery.later(message), consumer.suspend_flow.wait())
        read_offset[tp] = offset


async def _before_delivery(consumer: Any, tp: Any, message: Any, read: int | None) -> None:
    """Faust's steps before a delivery: record a gap in offsets, commit every N acks."""
    if read and message.offset - read > 1 and consumer.app.topics.acks_enabled_for(message.topic):
        await consumer._add_gap(tp, read + 1, message.offset)  # noqa: SLF001
    commit_every = consumer._commit_every  # noqa: SLF001
    if commit_every is not None and consumer._n_acked >= commit_every:  # noqa: SLF001
        consumer._n_acked = 0  # noqa: SLF001
        await consumer.commit()
