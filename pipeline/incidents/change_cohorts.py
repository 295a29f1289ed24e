"""The nodes a recent change reached that deviate soon after it: one fault, one incident.

A deploy to a role reaches its nodes at once, so a bad release breaks them within minutes of each
other, whatever metric each shows first; per-node incidents would page once per node and blame no
change. A deviation on a node a change reached (``ChangeEvent.nodes``, or every node of its role
when it names none) within ``window_s`` after the change counts toward that change's cohort; once
``min_hosts`` of them deviate, the tracker groups them into one role incident keyed by the change.
A node the change did not reach, or a deviation outside the window, is not the change's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from pipeline.incidents.tracked import TrackedIncident
from pipeline.models import ChangeEvent

# Kinds that ship new code or configuration to nodes (a unit restart the agent saw is not one).
GROUPING_KINDS = frozenset({"deploy", "config", "package", "kernel"})
# How long a change is kept after it happened, by the newest event time. That time runs ahead of
# the nodes whose partitions lag (minutes of data in a time-compressed demo or a replay): a
# change dropped by it would split its lagging nodes into host incidents. Changes are few.
KEEP_S = 6 * 3600.0


class ChangeCohorts:
    """Recent changes, and per change the nodes it reached that deviated after it.

    Parameters
    ----------
    window_s
        How long after a change a deviation of a node it reached is counted as the change's.
    min_hosts
        Deviating nodes of one change that make one incident.
    """

    def __init__(self, window_s: float, min_hosts: int) -> None:
        self.window = timedelta(seconds=window_s)
        self.min_hosts = min_hosts
        self._changes: dict[str, ChangeEvent] = {}
        self._deviated: dict[str, dict[str, datetime]] = {}  # change → node → first deviation
        # Dedup keys of the incidents opened for kept changes (the tracker looks them up).
        self.incident_keys: set[str] = set()

    def add_one(self, change: ChangeEvent) -> None:
        """Remember ``change`` if it can break nodes (a later copy of the same id replaces it)."""
        if change.kind in GROUPING_KINDS and (change.nodes or change.role):
            self._changes[change.change_id] = change

    def change_for(
        self, node_id: str, labels: Mapping[str, str], at: datetime
    ) -> ChangeEvent | None:
        """The newest change that reached ``node_id`` within ``window_s`` before ``at``.

        A node that already deviated after the change stays the change's for twice the window
        (as long as the change is kept): a bad release keeps hurting its nodes after their first
        deviation, and its incident may go quiet and reopen in between.
        """
        if not self._changes:  # the usual case, asked for every event
            return None
        reached = [
            c
            for c in self._changes.values()
            if c.changed_at <= at <= c.changed_at + self._hold(c, node_id)
            and _reached(c, node_id, labels)
        ]
        return max(reached, key=lambda c: c.changed_at, default=None)

    def note_one(self, change_id: str, node_id: str, at: datetime) -> dict[str, datetime]:
        """Count ``node_id`` deviating at ``at`` for the change; returns node → first deviation."""
        nodes = self._deviated.setdefault(change_id, {})
        nodes[node_id] = min(at, nodes.get(node_id, at))
        return nodes

    def open_incidents(self, open_: Mapping[str, TrackedIncident]) -> list[TrackedIncident]:
        """The open change incidents among ``open_`` (none, the usual case, costs one test)."""
        if not self.incident_keys:
            return []
        states = (open_.get(key) for key in self.incident_keys)
        return [state for state in states if state is not None]

    def held_nodes(self, open_: Mapping[str, TrackedIncident]) -> set[str]:
        """Nodes of open change incidents: a cohort-wide fleet incident does not take them."""
        return {node for state in self.open_incidents(open_) for node in state.nodes}

    def incident_holding(
        self, node_id: str, open_: Mapping[str, TrackedIncident]
    ) -> TrackedIncident | None:
        """The open change incident ``node_id`` is a member of, if any."""
        return next((s for s in self.open_incidents(open_) if node_id in s.nodes), None)

    def _hold(self, change: ChangeEvent, node_id: str) -> timedelta:
        known = node_id in self._deviated.get(change.change_id, {})
        return 2 * self.window if known else self.window

    def forming(self, node_id: str, labels: Mapping[str, str], at: datetime) -> bool:
        """Whether ``node_id`` deviates within a change's window: another node may follow."""
        return self.change_for(node_id, labels, at) is not None

    def expire(self, now: datetime) -> None:
        """Forget changes ``KEEP_S`` (at least twice the window) after they happened."""
        keep = max(2 * self.window, timedelta(seconds=KEEP_S))
        for change_id, change in list(self._changes.items()):
            if change.changed_at + keep < now:
                del self._changes[change_id]
                self._deviated.pop(change_id, None)
                self.incident_keys.discard(f"change:{change_id}")


def _reached(change: ChangeEvent, node_id: str, labels: Mapping[str, str]) -> bool:
    if change.nodes:
        return node_id in change.nodes
    return labels.get("role") == change.role
