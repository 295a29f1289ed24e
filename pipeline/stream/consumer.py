"""The worker's Kafka consumer: Faust's, reading each input partition from where it was sought.

After every rebalance Faust resumes the input partitions, seeks them to their committed offsets,
and relies on the seek to rewind past anything read in between. What went wrong, and what is done:

- **Partitions never committed.** aiokafka's ``seek_to_committed`` leaves a partition with no
  committed offset (or offset 0) where the fetcher got to, so when the fetcher was already running
  (a worker reading changelog partitions during recovery, as the second worker of a fresh group
  does) the whole backlog of such a partition was fetched, dropped and never read again: two
  workers stayed idle short of the backlog (issue 17). Such partitions are sought to their
  earliest offset here, which is what ``consumer_auto_offset_reset="earliest"`` asks for anyway.
- **Records fetched before the seek, handed out after it.** Faust stamps a fetched batch with the
  consumer generation current when the fetch *returns*, and its recovery resumes the flow before
  the seek, so a batch fetched before a rebalance or a seek could reach the agents afterwards: a
  partition's model learned offsets 150 on with a fresh model while the seek had rewound to 0,
  and the re-read 0–149 then counted as already learned (forked scores, and once a batch never
  scored: issue 17, ``test_worker_scaleout``). Here a fetch and a seek never run at once (the
  consumer thread would run both together), a batch remembers the generation and seek it was
  fetched in, and its input records are dropped if a rebalance or seek came since: the seek
  placed the partition at or before them, so they are read again. Records already handed out
  when a seek of their partition starts (the agents buffer what they read) are marked
  overtaken; the worker skips them unacknowledged for the same reason.
- **A delivery across a seek.** Faust's drain loop marks a message's offset read once its
  delivery returns, and drops every later message of the partition below it. A delivery begun
  before the seek (waiting for room in a full agent buffer) can return after it: the seek's
  re-read up to that offset was then dropped, never processed nor acknowledged: a partition
  committed before committed nothing more, one never committed committed past it (found
  reading Faust while tracing issue 17's group bench). Such a delivery puts back the read
  offset the seek left.
- **Acknowledgements of skipped messages.** Faust acknowledges what its streams skip during a
  rebalance, after it reset the partition's acknowledgements; such acks are not recorded.

``tests/unit/stream/test_consumer.py`` fails if Faust changes the parts this relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import AppT

from pipeline.stream.lean_drain import LeanDelivery, drain
from pipeline.stream.lean_input import LeanInput

log = logging.getLogger(__name__)
# Input messages handed to the agents and perhaps not processed yet are remembered (weakly) so a
# seek can mark them overtaken: Faust's channel queues hold up to 4,096 each, the worker's chunk
# up to 500; older ones were processed long since.
HANDED_OUT_REMEMBERED = 16_384


def never_committed(
    assignment: Iterable[Any],
    committed: Mapping[Any, int | None],
    is_changelog: Callable[[Any], bool],
) -> set[Any]:
    """Input partitions of ``assignment`` with no committed offset above 0.

    Changelog partitions are left out: table recovery and standbys position them itself.

    Examples
    --------
    >>> sorted(never_committed(["a", "b", "c", "log"], {"a": 5, "b": None}, lambda t: t == "log"))
    ['b', 'c']
    """
    return {tp for tp in assignment if not is_changelog(tp) and not committed.get(tp)}


class FleetConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer reading input partitions exactly from where they were sought."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Seeks begun so far; a fetch and a seek never run at once.
        self._seeks = 0
        self._fetch_or_seek = asyncio.Lock()
        # (generation, seeks) when the batch being handed out was fetched: one batch is in
        # flight at a time, as Faust's fetcher calls ``getmany`` in a loop.
        self._fetched_in = (0, 0)
        # Faust's read offsets of the input partitions as the latest seek left them.
        self._read_at_seek: dict[Any, int | None] = {}
        self._handed_out: deque[weakref.ref[Any]] = deque(maxlen=HANDED_OUT_REMEMBERED)
        self._overtaken: weakref.WeakSet[Any] = weakref.WeakSet()
        # Set (before the consumer starts) for the lean input path: its topic goes here.
        self.lean: LeanInput | None = None

    def overtaken(self, message: Any) -> bool:
        """True for a message handed out before a seek of its partition: the seek reads it again.

        Faust's recovery resumes the flow before its seek, so records fetched and handed out in
        between reach the agents' buffers; processing them would learn a partition from where
        the fetcher was, not from where the seek put it.
        """
        return bool(self._overtaken) and message in self._overtaken

    async def perform_seek(self) -> None:
        """Seek to the committed offsets, and partitions never committed to their earliest."""
        async with self._seeking():
            await super().perform_seek()
            committed = self._committed_offset  # noqa: SLF001 - filled by perform_seek above
            fresh = never_committed(self.assignment(), committed, self._is_changelog_tp)
            if fresh:
                log.info("never committed, read from the start: %s", sorted(map(str, fresh)))
                await self.seek_wait(await self.earliest_offsets(*fresh))
            read = self._read_offset  # noqa: SLF001 - set by the seeks above
            self._read_at_seek = {tp: read.get(tp) for tp in self.assignment()}

    async def _drain_messages(self, fetcher: Any) -> None:
        """Faust's consumer loop; with a lean input, its topic delivered there (``lean_drain``)."""
        if self.lean is None:
            await super()._drain_messages(fetcher)
        else:
            await drain(self, fetcher, LeanDelivery(self, self.lean))

    async def _getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:
        """Fetch a batch (never while a seek runs), remembering the generation and seek count."""
        async with self._fetch_or_seek:
            fetched_in = self._now()
            records = await super()._getmany(active_partitions, timeout)
        self._fetched_in = fetched_in
        return records

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        """Faust's batch, without the input records a rebalance or seek came after.

        The seek placed their partition at or before them (the fetch was done before it began),
        so they are read again; a rebalance's own seek follows it.
        """
        dropped = 0
        async for tp, message in super().getmany(timeout):
            if self._is_changelog_tp(tp):
                yield tp, message
            elif self._fetched_in == self._now():
                self._handed_out.append(weakref.ref(message))
                yield tp, message
                if self._seeks != self._fetched_in[1]:  # a seek came while it was delivered
                    await self._read_from_seek(tp)
            else:
                dropped += 1
        if dropped:
            log.info("%d records fetched before a rebalance or seek dropped, read again", dropped)

    async def _read_from_seek(self, tp: Any) -> None:
        """Undo Faust marking a message read whose delivery began before the latest seek.

        Faust records the offset once the delivery returns and would drop the seek's re-read
        below it; the seek under way, if any, ends first (it holds the lock).
        """
        async with self._fetch_or_seek:
            log.info("a delivery outlasted a seek of %s: read again from the seek", tp)
            self._read_offset[tp] = self._read_at_seek.get(tp)  # noqa: SLF001 - Faust's drain

    @contextlib.asynccontextmanager
    async def _seeking(self) -> AsyncIterator[None]:
        """A seek of every input partition: no fetch meanwhile; what was handed out is overtaken."""
        async with self._fetch_or_seek:
            self._seeks += 1
            self._overtake()
            yield

    def ack(self, message: Any) -> bool:
        """Faust's ack, except for messages its streams skip while a rebalance is under way.

        Faust acknowledges every message a stream skips (fetched before the rebalance, or met
        while the flow is stopped), and it reset the partition's acknowledgements at the
        revocation: recorded there, such an ack lets a commit pass the message before the seek's
        re-read of it is saved, and a next owner then starts after it. The re-read is acknowledged
        when it is done.
        """
        if fetched_before_rebalance(self.app, message) or not self.app.flow_control.is_active():
            self._unacked_messages.discard(message)  # noqa: SLF001 - as Faust's ack does
            return False
        return bool(super().ack(message))

    def _overtake(self) -> None:
        for ref in self._handed_out:
            message = ref()
            if message is not None:  # else processed and gone
                self._overtaken.add(message)
        self._handed_out.clear()

    def _now(self) -> tuple[int, int]:
        return (self.app.consumer_generation_id, self._seeks)


def fetched_before_rebalance(app: AppT, message: Any) -> bool:
    """True when ``message`` was fetched in an earlier consumer generation than ``app``'s now."""
    fetched_in = message.generation_id
    return fetched_in is not None and fetched_in != app.consumer_generation_id


def overtaken(app: faust.App, message: Any) -> bool:
    """True when ``app``'s consumer sought ``message``'s partition after handing it out."""
    consumer = app.consumer
    return isinstance(consumer, FleetConsumer) and consumer.overtaken(message)


class FleetTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport, making ``FleetConsumer`` consumers."""

    Consumer = FleetConsumer


def use_fleet_consumer(app: faust.App) -> None:
    """Give ``app`` the worker's consumer; call before anything uses ``app.transport``."""
    app.transport = FleetTransport(app.conf.broker_consumer, app)
