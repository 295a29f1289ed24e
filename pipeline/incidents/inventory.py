"""Which hosts exist per label, from the records their agents publish: a share's denominator.

A host is forgotten when it missed ``EXPIRY_REFRESHES`` of the refreshes its record announced
(or, for a host learned otherwise, after ``forget_after_s``). Expiry is bucketed by deadline: each
observation files the host under the ``bucket_s`` slot its deadline falls in, and ``expire`` pops
only the slots that passed, skipping hosts refreshed since, so a tick costs the hosts that expire
(amortised O(1) per observation) rather than a scan of the fleet.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from pipeline.models import InventoryRecord

EXPIRY_REFRESHES = 3  # a host is gone after missing this many announced refreshes
BUCKET_S = 10.0  # a host is forgotten at most this long after its deadline


@dataclass
class _Host:
    seen_at: datetime
    labels: dict[str, str]
    slot: int  # the expiry slot it is filed under last


class Inventory:
    """Hosts alive and their labels; ``population(k, v)`` counts hosts with ``k=v``.

    Parameters
    ----------
    forget_after_s
        A host observed without an announced refresh period is forgotten this long after.
    bucket_s
        Width of an expiry slot: how late at most a host is forgotten.
    """

    def __init__(self, forget_after_s: float = 600.0, bucket_s: float = BUCKET_S) -> None:
        self.forget_after_s = forget_after_s
        self.bucket_s = bucket_s
        self._hosts: dict[str, _Host] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._slots: dict[int, list[str]] = {}  # slot → hosts filed under it (some stale)
        self._due: list[int] = []  # heap of the slots in _slots

    def observe_record(self, record: InventoryRecord) -> None:
        """Take an agent's record: alive until it misses ``EXPIRY_REFRESHES`` refreshes."""
        forget_s = EXPIRY_REFRESHES * record.refresh_s
        self.observe_one(record.node_id, record.labels, record.published_at, forget_s)

    def observe_one(
        self, node_id: str, labels: dict[str, str], at: datetime, forget_s: float | None = None
    ) -> None:
        """Record that ``node_id`` with ``labels`` was alive at ``at`` (an older record is moot)."""
        previous = self._hosts.get(node_id)
        if previous is not None and at < previous.seen_at:
            return  # replayed or reordered: the newer record stands
        deadline_s = at.timestamp() + (forget_s if forget_s is not None else self.forget_after_s)
        slot = math.ceil(deadline_s / self.bucket_s)
        if previous is None or previous.labels != labels:
            if previous is not None:
                self._counts.subtract(previous.labels.items())
            self._counts.update(labels.items())
            labels = dict(labels)
        else:
            labels = previous.labels
        self._hosts[node_id] = _Host(at, labels, slot)
        if previous is None or previous.slot != slot:
            self._file(node_id, slot)

    def expire(self, now: datetime) -> None:
        """Forget hosts whose deadline passed (only the slots due are visited)."""
        now_s = now.timestamp()
        while self._due and self._due[0] * self.bucket_s <= now_s:
            slot = heapq.heappop(self._due)
            for node_id in self._slots.pop(slot):
                host = self._hosts.get(node_id)
                if host is not None and host.slot == slot:  # not refreshed since
                    self._counts.subtract(host.labels.items())
                    del self._hosts[node_id]

    def population(self, key: str, value: str) -> int:
        """Hosts currently known with label ``key=value`` (0 when none)."""
        return max(self._counts[(key, value)], 0)

    def labels_of(self, node_id: str) -> dict[str, str] | None:
        """The labels ``node_id`` last reported with, or None for an unknown host."""
        found = self._hosts.get(node_id)
        return dict(found.labels) if found is not None else None

    def __len__(self) -> int:
        return len(self._hosts)

    def _file(self, node_id: str, slot: int) -> None:
        filed = self._slots.get(slot)
        if filed is None:
            filed = self._slots[slot] = []
            heapq.heappush(self._due, slot)
        filed.append(node_id)
