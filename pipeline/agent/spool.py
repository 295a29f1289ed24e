"""Bounded spools of encoded batches awaiting a Kafka ack: in memory, or on disk across restarts.

Entries keep the order they were appended in, overall and per key (node). When a new entry would
exceed ``max_bytes`` the oldest entries are dropped and counted in ``dropped``; the agent
publishes that count as ``agent.spool_dropped`` so a loss is visible, never silent.

``DirectorySpool`` stores one file per entry, named by a sequence number that keeps increasing
across restarts (``state.json`` remembers it and the drop count). Files are written to a
temporary name and renamed, so a crash leaves either the whole entry or nothing. When the disk
refuses a write (full, read-only, quota), the entry stays in memory only, still within
``max_bytes``, and is counted in ``unpersisted`` (``agent.spool_unpersisted``): it is delivered
if Kafka acknowledges it before the agent restarts, and lost otherwise.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
SUFFIX = ".msg"


@dataclass(frozen=True)
class SpoolEntry:
    """One encoded message: its spool position, Kafka key and value."""

    entry_id: int
    key: bytes
    value: bytes

    @property
    def size_bytes(self) -> int:
        """What the entry counts against the spool's bound."""
        return len(self.key) + len(self.value)


class MemorySpool:
    """A bounded FIFO of entries, oldest dropped first; lost when the process ends.

    Parameters
    ----------
    max_bytes
        Upper bound of the summed key + value sizes.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self.dropped = 0
        self.unpersisted = 0  # entries that could not be made durable (DirectorySpool)
        self.next_id = 0
        self.pending_bytes = 0
        self._order: dict[int, SpoolEntry] = {}  # insertion-ordered: ids only ever increase
        self._by_key: dict[bytes, deque[SpoolEntry]] = {}

    def __len__(self) -> int:
        return len(self._order)

    def append(self, key: bytes, value: bytes) -> SpoolEntry:
        """Add an entry at the end, dropping the oldest ones while it would not fit."""
        entry = SpoolEntry(self.next_id, key, value)
        if entry.size_bytes > self.max_bytes:
            raise ValueError(f"an entry of {entry.size_bytes} bytes exceeds {self.max_bytes}")
        self.next_id += 1
        while self._order and self.pending_bytes + entry.size_bytes > self.max_bytes:
            self._drop_oldest()
        self._store(entry)
        self._index(entry)
        return entry

    def heads(self, limit: int) -> list[SpoolEntry]:
        """The oldest entry of each key, oldest first, at most ``limit``.

        Sending only heads keeps per-key order: a key's next entry goes out after its previous
        one was acknowledged.
        """
        firsts = sorted((queue[0] for queue in self._by_key.values()), key=lambda e: e.entry_id)
        return firsts[:limit]

    def remove(self, entries: list[SpoolEntry]) -> None:
        """Forget acknowledged entries (ones already dropped are ignored)."""
        for entry in entries:
            if self._order.pop(entry.entry_id, None) is None:
                continue
            queue = self._by_key[entry.key]
            queue.remove(entry)  # it is the head in practice, so this is O(1)
            if not queue:
                del self._by_key[entry.key]
            self.pending_bytes -= entry.size_bytes
            self._unstore(entry)

    def close(self) -> None:
        """Persist what must survive (nothing in memory)."""

    def _index(self, entry: SpoolEntry) -> None:
        self._order[entry.entry_id] = entry
        self._by_key.setdefault(entry.key, deque()).append(entry)
        self.pending_bytes += entry.size_bytes

    def _drop_oldest(self) -> None:
        oldest = next(iter(self._order.values()))
        self.remove([oldest])
        self.dropped += 1

    def _store(self, entry: SpoolEntry) -> None:
        """Hook: make ``entry`` durable."""

    def _unstore(self, entry: SpoolEntry) -> None:
        """Hook: forget ``entry`` durably."""


class DirectorySpool(MemorySpool):
    """A ``MemorySpool`` mirrored to one file per entry in ``directory``.

    Parameters
    ----------
    directory
        Created if missing; owned by one agent at a time.
    max_bytes
        Upper bound of the summed key + value sizes.
    fsync
        Flush each entry to the device before returning (survives power loss, not just crashes).
    """

    def __init__(self, directory: Path, max_bytes: int, fsync: bool = True) -> None:
        super().__init__(max_bytes)
        self.directory = Path(directory)
        self.fsync = fsync
        self.disk_failing = False

    def open(self) -> DirectorySpool:
        """Create the directory or load the entries a previous run left, in order."""
        self.directory.mkdir(parents=True, exist_ok=True)
        state = self._read_state()
        self.dropped = int(state.get("dropped", 0))
        self.next_id = int(state.get("next_id", 0))
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            entry = self._read_entry(path)
            if entry is not None:
                self._index(entry)
                self.next_id = max(self.next_id, entry.entry_id + 1)
        for leftover in self.directory.glob("*.tmp"):  # a write interrupted by a crash
            leftover.unlink(missing_ok=True)
        while self._order and self.pending_bytes > self.max_bytes:  # the bound may have shrunk
            self._drop_oldest()
        return self

    def close(self) -> None:
        """Write the state file (next id, drop count)."""
        self._write_state()

    def _store(self, entry: SpoolEntry) -> None:
        header = len(entry.key).to_bytes(2, "big")
        try:
            self._write_atomic(self._path(entry.entry_id), header + entry.key + entry.value)
        except OSError as exc:
            # A full disk must not stop sampling: keep the entry in memory, within max_bytes.
            self.unpersisted += 1
            self._disk_state(exc)
            return
        self._disk_state(None)
        self._write_state()

    def _disk_state(self, error: OSError | None) -> None:
        """Log once when the disk starts refusing writes and once when it accepts them again."""
        if error is not None and not self.disk_failing:
            log.warning(
                "spool %s not writable (%s): keeping batches in memory only until it recovers",
                self.directory,
                error.strerror or error,
            )
        elif error is None and self.disk_failing:
            log.warning("spool %s writable again", self.directory)
        self.disk_failing = error is not None

    def _unstore(self, entry: SpoolEntry) -> None:
        try:
            self._path(entry.entry_id).unlink(missing_ok=True)
        except OSError as exc:  # read-only disk: the entry is sent again after a restart
            self._disk_state(exc)

    def _drop_oldest(self) -> None:
        super()._drop_oldest()
        self._write_state()

    def _path(self, entry_id: int) -> Path:
        return self.directory / f"{entry_id:020d}{SUFFIX}"

    def _read_entry(self, path: Path) -> SpoolEntry | None:
        try:
            entry_id = int(path.name.removesuffix(SUFFIX))
            raw = path.read_bytes()
        except (ValueError, OSError):
            log.warning("ignoring unreadable spool file %s", path)
            return None
        key_len = int.from_bytes(raw[:2], "big")
        return SpoolEntry(entry_id, raw[2 : 2 + key_len], raw[2 + key_len :])

    def _read_state(self) -> dict[str, int]:
        try:
            state = json.loads((self.directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self) -> None:
        state = json.dumps({"next_id": self.next_id, "dropped": self.dropped})
        try:
            self._write_atomic(self.directory / STATE_FILE, state.encode())
        except OSError as exc:  # the counts live on in memory and in every batch's metrics
            self._disk_state(exc)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + ".tmp")
        try:
            with tmp.open("wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            tmp.replace(path)
        except OSError:
            tmp.unlink(missing_ok=True)  # a half-written file would only take more space
            raise
