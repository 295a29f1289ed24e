"""The lean input path's buffer and events: ``fleet.metrics`` without Faust's per-message stream.

With ``input = "lean"`` Faust's consumer hands each ``fleet.metrics`` message to a
:class:`LeanInput` instead of the Conductor (an event, a channel queue, a stream iteration per
message); the worker takes chunks from it and wraps each message in a :class:`LeanEvent`, which
the shared ``handle_chunk`` treats as it treats Faust's events. Nothing here is Faust-specific but
the one call ``LeanEvent.ack`` makes: ``Message.ack``, what Faust's ``Event.ack`` calls.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class LeanEvent:
    """One message as the worker's processing sees it: ``message``, ``value``, ``ack()``.

    Parameters
    ----------
    message
        Faust's ``Message`` (topic, partition, offset, tp, generation_id, value).
    consumer
        The consumer that made the message committable when it is acknowledged.
    """

    # __weakref__: Faust's tables find the current event through a weak reference.
    __slots__ = ("message", "value", "_consumer", "__weakref__")

    def __init__(self, message: Any, consumer: Any) -> None:
        self.message = message
        self.value: bytes | None = message.value
        self._consumer = consumer

    def ack(self) -> bool:
        """Acknowledge the message, as Faust's ``Event.ack`` does (its last reference)."""
        return bool(self.message.ack(self._consumer))


class LeanInput:
    """A bounded buffer of one topic's messages between the consumer and the worker.

    The consumer appends with :meth:`offer` while there is room, else waits in :meth:`wait_room`
    (back-pressure, as a full channel queue gives); the worker takes chunks with :meth:`take`.

    Parameters
    ----------
    topic
        The topic whose messages go here.
    capacity
        Most messages held (Faust's channel queues hold ``stream_buffer_maxsize``).
    """

    def __init__(self, topic: str, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.topic = topic
        self.capacity = capacity
        self._messages: deque[Any] = deque()
        self._arrived = asyncio.Event()
        # How many held messages wake a waiting ``take``: 1 for its first message, then the
        # whole chunk (one wake-up per chunk, not one per message while it fills).
        self._wanted = 1
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        return len(self._messages)

    @property
    def full(self) -> bool:
        """True when :meth:`offer` would refuse a message."""
        return len(self._messages) >= self.capacity

    def offer(self, message: Any) -> bool:
        """Append ``message`` if there is room; False (nothing appended) when full."""
        if len(self._messages) >= self.capacity:
            self._room.clear()
            return False
        self._messages.append(message)
        if len(self._messages) >= self._wanted:
            self._arrived.set()
        return True

    async def wait_room(self) -> None:
        """Return once :meth:`offer` would take a message."""
        while self.full:
            self._room.clear()
            await self._room.wait()

    async def take(self, max_n: int, within_s: float) -> list[Any]:
        """The next up to ``max_n`` messages, oldest first, once any arrived.

        Waits for a first message, then at most ``within_s`` for the chunk to fill, like
        Faust's ``Stream.take``; returns fewer when the wait ends first.
        """
        while not self._messages:
            self._arrived.clear()
            await self._arrived.wait()
        if len(self._messages) < max_n:
            self._wanted = max_n
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), within_s)
            except TimeoutError:
                pass  # a partial chunk
            finally:
                self._wanted = 1
        return self._take_now(max_n)

    def clear(self) -> None:
        """Drop what is held (a rebalance: the seek that follows reads it again)."""
        self._messages.clear()
        self._room.set()

    def _take_now(self, max_n: int) -> list[Any]:
        messages = self._messages
        chunk = [messages.popleft() for _ in range(min(max_n, len(messages)))]
        if len(messages) < self.capacity:
            self._room.set()
        return chunk
