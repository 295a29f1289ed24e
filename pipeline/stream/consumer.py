"""The worker's Kafka consumer: Faust's, except that partitions never committed restart at 0.

After every rebalance Faust resumes the input partitions, then seeks them to their committed
offsets, and only then lets messages through; anything fetched in between is dropped on the
understanding that the seek rewinds to it. aiokafka's ``seek_to_committed`` leaves a partition
with no committed offset (or offset 0) where the fetcher got to, so when the fetcher was already
running (a worker reading changelog partitions during recovery, as the second worker of a fresh
group does) the whole backlog of such a partition was fetched, dropped and never read again:
two workers stayed idle short of the backlog (issue 17). Such partitions are sought to their
earliest offset here, which is what ``consumer_auto_offset_reset="earliest"`` asks for anyway.
``tests/unit/stream/test_consumer.py`` fails if Faust changes the parts this relies on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger(__name__)


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
    """Faust's aiokafka consumer whose seek after a rebalance also covers uncommitted partitions."""

    async def perform_seek(self) -> None:
        """Seek to the committed offsets, and partitions never committed to their earliest."""
        await super().perform_seek()
        fresh = never_committed(
            self.assignment(),
            self._committed_offset,  # noqa: SLF001 - filled by perform_seek just above
            self._is_changelog_tp,  # noqa: SLF001 - Faust's own test for changelog partitions
        )
        if fresh:
            log.info("never committed, read from the start: %s", sorted(map(str, fresh)))
            await self.seek_wait(await self.earliest_offsets(*fresh))


class FleetTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport, making ``FleetConsumer`` consumers."""

    Consumer = FleetConsumer


def use_fleet_consumer(app: faust.App) -> None:
    """Give ``app`` the worker's consumer; call before anything uses ``app.transport``."""
    app.transport = FleetTransport(app.conf.broker_consumer, app)
