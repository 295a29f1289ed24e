"""Recent change events (deploys, config, packages, kernels, restarts) the stage links to incidents.

Consumed from ``fleet.changes``; an incident links the changes that touched its nodes or its
cohort within ``lookback_s`` before it opened (and while it is open).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from pipeline.models import ChangeEvent


class ChangeBook:
    """Changes kept for ``keep_s`` after they happened, looked up by nodes and labels.

    Parameters
    ----------
    lookback_s
        How long before an incident opened a change can have caused it.
    keep_s
        How long a change is kept at all (at least ``lookback_s``).
    """

    def __init__(self, lookback_s: float, keep_s: float | None = None) -> None:
        self.lookback = timedelta(seconds=lookback_s)
        self.keep = timedelta(seconds=max(keep_s or 0.0, lookback_s))
        self._changes: dict[str, ChangeEvent] = {}

    def add_one(self, change: ChangeEvent) -> None:
        """Remember ``change`` (a later copy of the same id replaces it)."""
        self._changes[change.change_id] = change

    def expire(self, now: datetime) -> None:
        """Forget changes older than ``keep_s``."""
        for change_id, change in list(self._changes.items()):
            if change.changed_at < now - self.keep:
                del self._changes[change_id]

    def linked_many(
        self,
        node_ids: Sequence[str],
        labels: Mapping[str, str],
        opened_at: datetime,
        until_at: datetime,
    ) -> list[ChangeEvent]:
        """Changes on these nodes or their role, from ``lookback_s`` before opening to ``until_at``.

        Newest first: the change closest before the incident is the likeliest cause.
        """
        since = opened_at - self.lookback
        found = [
            c
            for c in self._changes.values()
            if since <= c.changed_at <= until_at and _touches(c, node_ids, labels)
        ]
        return sorted(found, key=lambda c: c.changed_at, reverse=True)

    def __len__(self) -> int:
        return len(self._changes)


def _touches(change: ChangeEvent, node_ids: Sequence[str], labels: Mapping[str, str]) -> bool:
    if change.nodes and set(change.nodes) & set(node_ids):
        return True
    return change.role is not None and labels.get("role") == change.role and not change.nodes
