"""Acknowledge each partition's messages in offset order, whatever order they finish in.

A message of ``fleet.metrics`` is finished when its node is saved, and nodes are saved one by
one, so finishing order is not offset order: on a partition carrying nodes A, B and C,
A's save finishes offsets 0 and 3 while B's 1 is still unsaved. Faust commits the first run of
consecutive acknowledged offsets and checks the run against the last commit only for gaps of
two or more (and not at all before a partition's first commit): acknowledging 3 while 2 waited
could commit past 2, and a worker that then lost the partition left B's message to no one
(issue 17: "26 batches skipped"). Here a message is handed to Faust only once every message
before it on its partition is finished, so a commit never passes an unsaved message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class AckOrder:
    """Finished messages wait here until every earlier message of their partition is finished.

    Parameters
    ----------
    acknowledge
        Hands one message to the consumer as acknowledged (``event.ack`` in the worker).
    """

    def __init__(self, acknowledge: Callable[[Any], object] = lambda event: event.ack()) -> None:
        self.acknowledge = acknowledge
        # partition → offset → [event, finished], in the order the messages were read
        self._open: dict[Any, dict[int, list[Any]]] = {}

    @property
    def waiting(self) -> int:
        """Messages read and not yet handed on (finished or not)."""
        return sum(len(partition) for partition in self._open.values())

    def track(self, event: Any) -> None:
        """``event`` was read and will be finished later (call in offset order per partition)."""
        message = event.message
        self._open.setdefault(message.tp, {})[message.offset] = [event, False]

    def done(self, event: Any) -> None:
        """``event`` is finished: hand it on, with any finished run behind it, if none is before.

        An event not tracked (read before the last ``forget``) is left unacknowledged: its
        partition was sought back to the last commit since, so it is read again.
        """
        message = event.message
        partition = self._open.get(message.tp)
        entry = None if partition is None else partition.get(message.offset)
        if partition is None or entry is None or entry[0] is not event:
            return
        entry[1] = True
        while partition:
            offset, (head, finished) = next(iter(partition.items()))
            if not finished:
                break
            del partition[offset]
            self.acknowledge(head)

    def forget(self, partitions: Iterable[Any] | None = None) -> None:
        """A rebalance: drop what waits on ``partitions`` (all when None); it is read again."""
        if partitions is None:
            self._open.clear()
            return
        for tp in partitions:
            self._open.pop(tp, None)
