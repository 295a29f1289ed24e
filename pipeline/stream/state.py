"""One node's models (detector + windows) and the bytes they are saved as in the state table."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pipeline.detect.base import HostDetector, HostScore
from pipeline.models import AnomalyEvent

MAGIC = b"FWNS"
FORMAT_VERSION = 1
# magic, version, source partition, last applied source offset, detector bytes, window bytes
_HEADER = struct.Struct(">4sHiqII")


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

    def has_applied(self, partition: int, offset: int) -> bool:
        """True when the message at ``partition``/``offset`` is already in these models."""
        return partition == self.partition and offset <= self.offset

    def mark_applied(self, partition: int, offset: int) -> None:
        """Record that the message at ``partition``/``offset`` has been learned."""
        self.partition, self.offset = partition, offset


@dataclass(frozen=True)
class SavedNode:
    """The decoded parts of a saved node: position plus the detector's and windows' own bytes."""

    partition: int
    offset: int
    detector: bytes
    windows: bytes


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
    return header + detector + windows


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
    if version != FORMAT_VERSION:
        raise ValueError(f"node snapshot format {version} unsupported (expected {FORMAT_VERSION})")
    if len(data) != _HEADER.size + n_detector + n_windows:
        raise ValueError("node snapshot length does not match its header")
    start = _HEADER.size
    detector = data[start : start + n_detector]
    windows = data[start + n_detector :]
    return SavedNode(partition, offset, bytes(detector), bytes(windows))
