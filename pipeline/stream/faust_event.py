"""The one place that touches Faust internals: making an event current outside its stream.

Faust routes a table write (changelog partition, RocksDB partition store) by the current event,
which only the stream loop sets. The worker saves a node's models from the timer, at rebalance
and at shutdown, acting for the node's last event, so it must set that event itself; Faust has
no public setter. ``tests/unit/stream/test_faust_event.py`` fails if Faust changes this.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust import streams


@contextmanager
def current_event(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event inside the block (``faust.current_event()``)."""
    token = streams._current_event.set(weakref.ref(event))  # noqa: SLF001 - no public setter
    try:
        yield
    finally:
        streams._current_event.reset(token)  # noqa: SLF001
