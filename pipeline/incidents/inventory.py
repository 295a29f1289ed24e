"""Which hosts exist per label, from the metric batches they send: the denominator of a share."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta


class Inventory:
    """Hosts seen recently and their labels; ``population(k, v)`` counts hosts with ``k=v``.

    Parameters
    ----------
    forget_after_s
        A host not heard from for this long is no longer counted.
    """

    def __init__(self, forget_after_s: float = 600.0) -> None:
        self.forget_after_s = forget_after_s
        self._hosts: dict[str, tuple[datetime, dict[str, str]]] = {}
        self._counts: Counter[tuple[str, str]] = Counter()

    def observe_one(self, node_id: str, labels: dict[str, str], at: datetime) -> None:
        """Record that ``node_id`` with ``labels`` reported at ``at``."""
        previous = self._hosts.get(node_id)
        if previous is not None:
            self._counts.subtract(previous[1].items())
        self._hosts[node_id] = (at, dict(labels))
        self._counts.update(labels.items())

    def expire(self, now: datetime) -> None:
        """Forget hosts that went quiet."""
        horizon = now - timedelta(seconds=self.forget_after_s)
        for node_id, (seen_at, labels) in list(self._hosts.items()):
            if seen_at < horizon:
                self._counts.subtract(labels.items())
                del self._hosts[node_id]

    def population(self, key: str, value: str) -> int:
        """Hosts currently known with label ``key=value`` (0 when none)."""
        return max(self._counts[(key, value)], 0)

    def labels_of(self, node_id: str) -> dict[str, str] | None:
        """The labels ``node_id`` last reported with, or None for an unknown host."""
        found = self._hosts.get(node_id)
        return dict(found[1]) if found is not None else None

    def __len__(self) -> int:
        return len(self._hosts)
