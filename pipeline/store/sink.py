"""The one contract of every writer: items are added, written in the background, then settled.

Every writer of fleetwatch (the InfluxDB sink of the stream worker, the remediation audit trail)
has the same shape, and the worker's checkpoints rely only on it: a node's models are saved, and
so its offsets committed, once the items its messages added are *settled*. Backpressure is a typed
signal (``SinkBackpressure`` with ``retry_after_s``), raised by ``add_many`` before it takes
anything, rather than a flag for callers to poll; in the spirit of Quix Streams'
``BaseSink`` and ``SinkBackpressureError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from pipeline.errors import SinkBackpressure

__all__ = ["Sink", "SinkBackpressure", "add_waiting"]

T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    """A buffered writer whose items settle in the order they were added.

    Items are numbered from 1 in the order added; ``settled`` is the highest number up to which
    every item has left the sink for good: written, or refused or dropped and counted. A caller
    that kept the number ``add_many`` returned knows when its items are durable.
    """

    def start(self) -> None:
        """Connect and start writing; nothing connects before."""
        ...

    def add_many(self, items: Iterable[T_contra]) -> int:
        """Queue items for writing; returns the number of the last item ever added.

        Raises
        ------
        SinkBackpressure
            When the writer lags; nothing was taken, add again after ``retry_after_s``.
        """
        ...

    @property
    def settled(self) -> int:
        """Number of the newest item up to which every item is written, refused or dropped."""
        ...

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything added is settled (or ``timeout_s``); True when it is."""
        ...

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush (up to ``timeout_s``), then stop writing and disconnect."""
        ...


def add_waiting(
    sink: Sink[T_contra],
    items: Iterable[T_contra],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """``sink.add_many(items)`` for a blocking caller: waits as long as the sink asks.

    Returns
    -------
    int
        The number of the last item added.
    """
    batch = list(items)  # added again after a wait: an iterator would be spent
    while True:
        try:
            return sink.add_many(batch)
        except SinkBackpressure as exc:
            sleep(exc.retry_after_s)
