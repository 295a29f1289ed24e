"""Live node models, saved to a changelog-backed table at most every N seconds per node.

Offsets and saved models are kept consistent without transactions: a message is acknowledged
(made committable) only once a saved model contains it, so a worker that dies re-reads at most
what came after its last saves, and the saved ``offset`` tells which re-read messages to skip.
The table is Faust's, so the changelog moves saved models to whichever worker owns the partition
next.
"""

from __future__ import annotations

import logging
import sys
import time
import weakref
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from faust import streams

from pipeline.stream.state import NodeModel, encode_node

log = logging.getLogger(__name__)


@contextmanager
def faust_event_context(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event, so a table write lands in its partition.

    Faust routes table writes (changelog partition, RocksDB partition store) by the current event;
    saves made from the timer or at shutdown act for a node whose last event is not the current one.
    """
    token = streams._current_event.set(weakref.ref(event))  # noqa: SLF001 - no public setter
    try:
        yield
    finally:
        streams._current_event.reset(token)  # noqa: SLF001


@dataclass
class LiveNode:
    """A node's models in memory, the events they learned since the last save, and when."""

    model: NodeModel
    saved_at: float
    pending: list[Any] = field(default_factory=list)
    dirty: bool = False
    last_event: Any = None
    seen_at: float = 0.0
    sink_seq: int = 0  # the sink's sequence number after this node's latest points


class Checkpoints:
    """The nodes this worker owns right now, loaded from and saved to ``table``.

    Parameters
    ----------
    table
        UTF-8 node id → saved bytes (a Faust table in the worker, a dict in tests).
    new_model, restore_model
        Build a node's models fresh, or from saved bytes.
    interval_s
        Least time between two saves of one node.
    event_context
        Context manager making an event current while its node is saved.
    settled, settle
        How far the InfluxDB sink has written (its FIFO sequence number), and a call that
        waits for it to write everything. A node is saved only once its points are settled:
        a saved message is never re-read, so its points must not be lost with the worker.
    clock
        Monotonic seconds.
    """

    def __init__(
        self,
        table: MutableMapping[bytes, bytes],
        new_model: Callable[[], NodeModel],
        restore_model: Callable[[bytes], NodeModel],
        interval_s: float,
        event_context: Callable[[Any], Any] = faust_event_context,
        settled: Callable[[], int] = lambda: sys.maxsize,
        settle: Callable[[], object] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.table = table
        self.new_model = new_model
        self.restore_model = restore_model
        self.interval_s = interval_s
        self.event_context = event_context
        self.settled = settled
        self.settle = settle
        self.clock = clock
        self.live: dict[str, LiveNode] = {}
        self.busy: str | None = None  # node whose event is being processed (not saved meanwhile)
        self.frozen = False  # during a rebalance: saved once at its start, not again until it ends
        self.saves = 0
        self.saved_bytes = 0

    def model_for(self, node_id: str, event: Any) -> NodeModel:
        """The node's live models: in memory, else restored from the table, else new."""
        node = self.live.get(node_id)
        if node is None:
            with self.event_context(event):
                data = self.table.get(node_id.encode())
            model = self._load(node_id, data)
            now = self.clock()
            node = self.live[node_id] = LiveNode(model=model, saved_at=now, seen_at=now)
        return node.model

    def applied(self, node_id: str, event: Any, sink_seq: int = 0) -> None:
        """``event`` is in the node's models; it is acknowledged at the node's next save.

        A node forgotten meanwhile (its partition was revoked mid-event) leaves the event
        unacknowledged: the partition's next owner re-reads and learns it.
        """
        node = self.live.get(node_id)
        if node is None:
            return
        node.pending.append(event)
        node.dirty = True
        node.last_event = event
        node.seen_at = self.clock()
        node.sink_seq = sink_seq

    def quiet(self, idle_s: float) -> list[tuple[str, NodeModel]]:
        """Nodes with no event for ``idle_s`` seconds (not the one being processed)."""
        since = self.clock() - idle_s
        return [
            (node_id, node.model)
            for node_id, node in self.live.items()
            if node.seen_at <= since and node_id != self.busy
        ]

    def touched(self, node_id: str) -> None:
        """The node's models changed without a new event (windows closed by the clock)."""
        node = self.live.get(node_id)
        if node is not None and node.last_event is not None:
            node.dirty = True

    def save_due(self, force: bool = False) -> int:
        """Save every node not saved for ``interval_s`` (all when ``force``); returns how many."""
        if self.frozen:
            return 0
        if force:
            self.settle()
        now, settled = self.clock(), self.settled()
        saved = 0
        for node_id, node in self.live.items():
            if node_id == self.busy or not node.dirty or node.sink_seq > settled:
                continue
            if force or now - node.saved_at >= self.interval_s:
                self._save(node_id, node, now)
                saved += 1
        return saved

    def save_one_if_due(self, node_id: str) -> bool:
        """Save one node if its interval has passed (called after each of its events)."""
        node = self.live.get(node_id)
        now = self.clock()
        if node is None or self.frozen or not node.dirty or now - node.saved_at < self.interval_s:
            return False
        if node.sink_seq > self.settled():
            return False  # the timer saves it once its points are written
        self._save(node_id, node, now)
        return True

    def forget(self, partitions: set[int]) -> int:
        """Drop live models of revoked partitions (saved already); returns how many."""
        gone = [n for n, node in self.live.items() if node.model.partition in partitions]
        for node_id in gone:
            del self.live[node_id]
        return len(gone)

    def _load(self, node_id: str, data: bytes | None) -> NodeModel:
        if data is None:
            return self.new_model()
        try:
            return self.restore_model(data)
        except ValueError as exc:
            # A model that cannot be read is relearned rather than stopping the partition.
            log.error("saved models of node %s unreadable, starting fresh: %s", node_id, exc)
            return self.new_model()

    def _save(self, node_id: str, node: LiveNode, now: float) -> None:
        data = encode_node(node.model)
        with self.event_context(node.last_event):
            self.table[node_id.encode()] = data
        for event in node.pending:
            event.ack()
        node.pending.clear()
        node.dirty = False
        node.saved_at = now
        self.saves += 1
        self.saved_bytes += len(data)
