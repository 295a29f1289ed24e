"""One node's models (detector + windows) and the bytes they are saved as in the state table."""

from __future__ import annotations

import struct
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pipeline.detect.base import HostDetector, HostScore
from pipeline.models import AnomalyEvent

MAGIC = b"FWNS"
FORMAT_VERSION = 2  # v2 adds the recent batch ids; v1 (without them) is still read
READABLE_VERSIONS = (1, 2)
# magic, version, source partition, last applied source offset, detector bytes, window bytes
_HEADER = struct.Struct(">4sHiqII")
_ID_COUNT = struct.Struct(">H")
# Batch ids remembered per node: an agent re-sends a batch within seconds of a lost ack, so
# 64 samples (over ten minutes at a 10 s interval) is a wide margin; 1 KiB per node.
RECENT_BATCHES = 64


class Windows(Protocol):
    """What the worker needs of ``pipeline.detect.windowing.WindowTracker``."""

    def update(
        self, node_id: str, labels: dict[str, str], at: datetime, score: HostScore
    ) -> list[AnomalyEvent]:
        """Feed one batch's scores; returns the windows that closed or were flagged."""
        ...

    def expire(self, now: datetime) -> list[AnomalyEvent]:
        """Close windows that ended at or before ``now``."""
        ...

    def snapshot(self) -> bytes:
        """Versioned bytes of the open windows."""
        ...


@dataclass
class NodeModel:
    """The live models of one node and how far into its source partition they have learned.

    ``partition``/``offset`` name the last message applied, so a replay after a crash (at-least-once
    delivery re-reads from the last commit) skips what the saved models already contain.
    """

    detector: HostDetector
    windows: Windows
    partition: int = -1
    offset: int = -1
    detail_bucket: int = -1  # last downsampling bucket that wrote raw metrics and scores
    recent_batches: deque[bytes] = field(default_factory=lambda: deque(maxlen=RECENT_BATCHES))

    def has_applied(self, partition: int, offset: int) -> bool:
        """True when the message at ``partition``/``offset`` is already in these models."""
        return partition == self.partition and offset <= self.offset

    def mark_applied(self, partition: int, offset: int, batch_id: uuid.UUID | None = None) -> None:
        """Record that the message at ``partition``/``offset`` (batch ``batch_id``) is learned."""
        self.partition, self.offset = partition, offset
        if batch_id is not None:
            self.recent_batches.append(batch_id.bytes)

    def has_learned_batch(self, batch_id: uuid.UUID) -> bool:
        """True when a batch with this id was learned lately.

        An agent's re-send after a lost ack arrives as a new message with the same ``batch_id``.
        """
        return batch_id.bytes in self.recent_batches


@dataclass(frozen=True)
class SavedNode:
    """The decoded parts of a saved node: position plus the detector's and windows' own bytes."""

    partition: int
    offset: int
    detector: bytes
    windows: bytes
    recent_batches: tuple[bytes, ...] = ()


def encode_node(model: NodeModel) -> bytes:
    """Bytes stored in the state table for ``model``.

    Examples
    --------
    >>> saved = decode_node(b"FWNS" + bytes([0, 1]) + bytes(20))
    >>> saved.partition, saved.offset, saved.detector
    (0, 0, b'')
    """
    detector = model.detector.snapshot()
    windows = model.windows.snapshot()
    header = _HEADER.pack(
        MAGIC, FORMAT_VERSION, model.partition, model.offset, len(detector), len(windows)
    )
    ids = _ID_COUNT.pack(len(model.recent_batches)) + b"".join(model.recent_batches)
    return header + detector + windows + ids


def decode_node(data: bytes) -> SavedNode:
    """Parse bytes from :func:`encode_node`.

    Raises
    ------
    ValueError
        When the bytes are truncated, not a node snapshot, or of an unknown format version.
    """
    if len(data) < _HEADER.size:
        raise ValueError(f"node snapshot of {len(data)} bytes is truncated")
    magic, version, partition, offset, n_detector, n_windows = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not a fleetwatch node snapshot (bad magic)")
    if version not in READABLE_VERSIONS:
        raise ValueError(f"node snapshot format {version} unsupported (expected {FORMAT_VERSION})")
    ids_at = _HEADER.size + n_detector + n_windows
    ids = _read_ids(data, ids_at) if version >= 2 else ()
    if len(data) != ids_at + (_ID_COUNT.size + 16 * len(ids) if version >= 2 else 0):
        raise ValueError("node snapshot length does not match its header")
    detector = data[_HEADER.size : _HEADER.size + n_detector]
    windows = data[_HEADER.size + n_detector : ids_at]
    return SavedNode(partition, offset, bytes(detector), bytes(windows), ids)


def _read_ids(data: bytes, at: int) -> tuple[bytes, ...]:
    if len(data) < at + _ID_COUNT.size:
        raise ValueError("node snapshot is truncated before its batch ids")
    (count,) = _ID_COUNT.unpack_from(data, at)
    start = at + _ID_COUNT.size
    return tuple(data[start + 16 * i : start + 16 * (i + 1)] for i in range(count))
