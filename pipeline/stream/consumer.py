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
  the seek, so a batch requested before a rebalance or a seek could reach the agents afterwards:
  a partition's model learned offsets 150 on with a fresh model while the seek had rewound to 0,
  and the re-read 0–149 then counted as already learned (forked scores, and once a batch never
  scored: issue 17, ``test_worker_scaleout``). Here a batch remembers the generation and the seek
  it was requested in; input records of a batch that a rebalance or seek overtook are dropped, and
  the partitions they came from are sought back to where the last seek put them, so whatever the
  fetch had read (before or after the seek: the consumer thread may run both at once) is read
  again, in order. Records already handed out when a seek of their partition starts (recovery
  runs with the flow on, and the agents buffer what they read) are marked overtaken; the worker
  skips them unacknowledged, as the seek reads them again.
- **Acknowledgements of skipped messages.** Faust acknowledges what its streams skip during a
  rebalance, after it reset the partition's acknowledgements; such acks are not recorded.

``tests/unit/stream/test_consumer.py`` fails if Faust changes the parts this relies on.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

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
        # Seeks begun or ended so far, and where the last ``perform_seek`` put each partition.
        self._seeks = 0
        self._sought_to: dict[Any, int] = {}
        # (generation, seeks) when the batch being handed out was requested: one batch is in
        # flight at a time, as Faust's fetcher calls ``getmany`` in a loop.
        self._requested_in = (0, 0)
        self._handed_out: deque[tuple[Any, weakref.ref[Any]]] = deque(maxlen=HANDED_OUT_REMEMBERED)
        self._overtaken: weakref.WeakSet[Any] = weakref.WeakSet()

    def overtaken(self, message: Any) -> bool:
        """True for a message handed out before a seek of its partition: the seek reads it again.

        Faust's recovery resumes the flow before its seek, so records fetched and handed out in
        between reach the agents' buffers; processing them would learn a partition from where
        the fetcher was, not from where the seek put it.
        """
        return bool(self._overtaken) and message in self._overtaken

    async def perform_seek(self) -> None:
        """Seek to the committed offsets, and partitions never committed to their earliest."""
        async with self._seeking(None):
            await super().perform_seek()
            committed = self._committed_offset  # noqa: SLF001 - filled by perform_seek above
            fresh = never_committed(self.assignment(), committed, self._is_changelog_tp)
            earliest: Mapping[Any, int] = {}
            if fresh:
                log.info("never committed, read from the start: %s", sorted(map(str, fresh)))
                earliest = await self.earliest_offsets(*fresh)
                await self.seek_wait(earliest)
            self._sought_to = {tp: o for tp, o in committed.items() if o} | dict(earliest)

    async def _getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:
        """Fetch a batch, remembering the generation and seek count it was requested in."""
        requested_in = self._now()  # queued to the consumer thread with no await in between
        records = await super()._getmany(active_partitions, timeout)
        self._requested_in = requested_in
        return records

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        """Faust's batch, without the input records a rebalance or seek overtook."""
        overtaken: set[Any] = set()
        async for tp, message in super().getmany(timeout):
            if self._is_changelog_tp(tp):
                yield tp, message
            elif self._requested_in == self._now():
                self._handed_out.append((tp, weakref.ref(message)))
                yield tp, message
            else:
                overtaken.add(tp)
        if overtaken:
            await self._seek_back(overtaken)

    async def _seek_back(self, partitions: set[Any]) -> None:
        """Read ``partitions`` again from where the last seek put them.

        Without a seek since the batch was requested (a rebalance that has not sought yet), the
        rebalance's own seek comes next and does it.
        """
        if self._requested_in[1] == self._seeks:
            return
        assigned = self.assignment()
        targets = {tp: o for tp, o in self._sought_to.items() if tp in partitions & assigned}
        log.info("records fetched before a seek dropped; read again from %s", targets)
        if not targets:
            return
        try:
            async with self._seeking(set(targets)):
                await self.seek_wait(targets)
        except Exception as exc:  # noqa: BLE001 - a rebalance under way seeks them itself
            log.warning("seeking back %s failed, left to the next rebalance: %r", targets, exc)

    @contextlib.asynccontextmanager
    async def _seeking(self, partitions: set[Any] | None) -> AsyncIterator[None]:
        """Count a seek of ``partitions`` (all when None) at its start and at its end.

        A fetch requested before the start may return records from before the seek; one
        requested while it runs may too (the consumer thread runs two calls at once). Messages
        of those partitions handed out so far are overtaken.
        """
        self._seeks += 1
        self._overtake(partitions)
        try:
            yield
        finally:
            self._seeks += 1

    def ack(self, message: Any) -> bool:
        """Faust's ack, except for messages its streams skip while a rebalance is under way.

        Faust acknowledges every message a stream skips (fetched before the rebalance, or met
        while the flow is stopped), and it reset the partition's acknowledgements at the
        revocation: recorded there, such an ack lets a commit pass the message before the seek's
        re-read of it is saved, and a next owner then starts after it. The re-read is acknowledged
        when it is done.
        """
        fetched_in = message.generation_id
        stale = fetched_in is not None and fetched_in != self.app.consumer_generation_id
        if stale or not self.app.flow_control.is_active():
            self._unacked_messages.discard(message)  # noqa: SLF001 - as Faust's ack does
            return False
        return bool(super().ack(message))

    def _overtake(self, partitions: set[Any] | None) -> None:
        kept: deque[tuple[Any, weakref.ref[Any]]] = deque(maxlen=HANDED_OUT_REMEMBERED)
        for tp, ref in self._handed_out:
            message = ref()
            if message is None:
                continue  # processed and gone
            if partitions is None or tp in partitions:
                self._overtaken.add(message)
            else:
                kept.append((tp, ref))
        self._handed_out = kept

    def _now(self) -> tuple[int, int]:
        return (self.app.consumer_generation_id, self._seeks)


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
