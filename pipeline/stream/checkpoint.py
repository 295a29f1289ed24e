"""Live node models, saved to a changelog-backed table at most every N seconds per node.

Offsets and saved models are kept consistent without transactions: a message is acknowledged
(made committable) only once a saved model contains it, so a worker that dies re-reads at most
what came after its last saves, and the saved ``offset`` tells which re-read messages to skip.
The table is Faust's, so the changelog moves saved models to whichever worker owns the partition
next.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from pipeline.store.sink import Sink
from pipeline.stream.faust_event import current_event
from pipeline.stream.state import NodeModel, encode_node

log = logging.getLogger(__name__)


class Saving(enum.Enum):
    """Whether node models may be saved now."""

    OPEN = "open"
    FROZEN = "frozen"  # a rebalance: not saved until it ends
    CLOSED = "closed"  # the worker stops: saved once, never again


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

    The one owner of when models are saved, and so of when offsets become committable: callers
    say what happened (``processing``, ``applied``, ``freeze``, ``thaw``, ``close``); nothing
    outside sets its state.

    Parameters
    ----------
    table
        UTF-8 node id → saved bytes (a Faust table in the worker, a dict in tests).
    new_model, restore_model
        Build a node's models fresh, or from saved bytes.
    interval_s
        Least time between two saves of one node.
    sink
        Where the nodes' points go. A node is saved only once the points its events added are
        settled: a saved message is never re-read, so its points must not be lost with the worker.
    settle_timeout_s
        How long a save of every node (rebalance, shutdown) waits for the sink first; nodes
        whose points are still unsettled then are left to be re-read.
    event_context
        Context manager making an event current while its node is read or saved.
    acknowledge
        Called with each event once a save contains it (the worker's ``AckOrder.done``).
    clock
        Monotonic seconds.
    """

    def __init__(
        self,
        table: MutableMapping[bytes, bytes],
        new_model: Callable[[], NodeModel],
        restore_model: Callable[[bytes], NodeModel],
        interval_s: float,
        sink: Sink[Any],
        settle_timeout_s: float = 5.0,
        event_context: Callable[[Any], AbstractContextManager[None]] = current_event,
        acknowledge: Callable[[Any], object] = lambda event: event.ack(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.table = table
        self.new_model = new_model
        self.restore_model = restore_model
        self.interval_s = interval_s
        self.sink = sink
        self.settle_timeout_s = settle_timeout_s
        self.event_context = event_context
        self.acknowledge = acknowledge
        self.clock = clock
        self.live: dict[str, LiveNode] = {}
        self.saves = 0
        self.saved_bytes = 0
        self._busy: str | None = None  # node whose event is being processed: not saved meanwhile
        self._saving = Saving.OPEN

    @property
    def saving(self) -> Saving:
        """Whether saves happen now."""
        return self._saving

    @property
    def closed(self) -> bool:
        """True once the worker stops: no node is saved again."""
        return self._saving is Saving.CLOSED

    @contextmanager
    def processing(self, node_id: str, event: Any) -> Iterator[NodeModel]:
        """The node's live models, kept from being saved until its event is processed."""
        model = self.model_for(node_id, event)
        self._busy = node_id
        try:
            yield model
        finally:
            self._busy = None

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
        """``event`` is in the node's models and its points up to ``sink_seq`` in the sink.

        The event is acknowledged at the node's next save. A node forgotten meanwhile (its
        partition was revoked mid-event) leaves it unacknowledged: the partition's next owner
        re-reads and learns it.
        """
        node = self.live.get(node_id)
        if node is None:
            return
        node.pending.append(event)
        node.dirty = True
        node.last_event = event
        node.seen_at = self.clock()
        node.sink_seq = max(node.sink_seq, sink_seq)

    def quiet(self, idle_s: float) -> list[tuple[str, NodeModel]]:
        """Nodes with no event for ``idle_s`` seconds (not the one being processed)."""
        since = self.clock() - idle_s
        return [
            (node_id, node.model)
            for node_id, node in self.live.items()
            if node.seen_at <= since and node_id != self._busy
        ]

    def touched(self, node_id: str, sink_seq: int = 0) -> None:
        """The node's models changed without a new event (windows closed by the clock)."""
        node = self.live.get(node_id)
        if node is not None and node.last_event is not None:
            node.dirty = True
            node.sink_seq = max(node.sink_seq, sink_seq)

    def save_due(self) -> int:
        """Save every node not saved for ``interval_s`` whose points are settled; how many."""
        return self._save_settled(force=False)

    def save_one_if_due(self, node_id: str) -> bool:
        """Save one node if its interval has passed (called after each of its events)."""
        node = self.live.get(node_id)
        now = self.clock()
        if node is None or self._saving is not Saving.OPEN or not node.dirty:
            return False
        if now - node.saved_at < self.interval_s or node.sink_seq > self.sink.settled:
            return False  # the timer saves it once its points are written
        self._save(node_id, node, now)
        return True

    def freeze(self) -> None:
        """A rebalance starts: no node is saved until ``thaw``.

        Nothing is saved here: Faust calls this from its consumer thread while the event loop
        may be changing the very models a save would read. What was learned since a node's last
        save is unacknowledged, so the partition's owner after the rebalance re-reads it.
        """
        if self._saving is Saving.OPEN:
            self._saving = Saving.FROZEN

    def thaw(self) -> None:
        """The rebalance ended: saving resumes (never after ``close``)."""
        if self._saving is Saving.FROZEN:
            self._saving = Saving.OPEN

    def close(self) -> int:
        """The worker stops: save every node one last time; how many."""
        saved = self._save_settled(force=True)
        self._saving = Saving.CLOSED
        return saved

    def forget(self, partitions: set[int]) -> int:
        """Drop live models of revoked partitions (saved already); returns how many."""
        gone = [n for n, node in self.live.items() if node.model.partition in partitions]
        for node_id in gone:
            del self.live[node_id]
        return len(gone)

    def _save_settled(self, force: bool) -> int:
        """Save dirty nodes whose points are settled: due ones, or all when ``force``."""
        if self._saving is not Saving.OPEN:
            return 0
        if force:
            self.sink.flush(timeout_s=self.settle_timeout_s)
        now, settled = self.clock(), self.sink.settled
        saved = 0
        for node_id, node in self.live.items():
            if node_id == self._busy or not node.dirty or node.sink_seq > settled:
                continue
            if force or now - node.saved_at >= self.interval_s:
                self._save(node_id, node, now)
                saved += 1
        return saved

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
            self.acknowledge(event)
        node.pending.clear()
        node.dirty = False
        node.saved_at = now
        self.saves += 1
        self.saved_bytes += len(data)
