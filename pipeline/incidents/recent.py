"""Who deviated recently: the grouping's index of the last ``gap_s`` of events by cohort and kind.

A fleet check reads one cohort's hosts instead of scanning every recent event (which made it
quadratic), and an open fleet incident learns which hosts joined its cohort since it last
absorbed it from a short list kept while it is open, instead of diffing the cohort's thousands
of hosts against its own whenever one joins.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Collection
from datetime import datetime
from typing import TypeVar

from pipeline.incidents.tracked import Seen, TrackedIncident

_K = TypeVar("_K")
Cohort = tuple[str, str]  # (label, value): ("role", "web")


class RecentIndex:
    """The deviations seen within the gap, indexed by cohort and by ``metric:direction``.

    Parameters
    ----------
    group_labels
        The labels cohorts are formed by (``role``, ``zone``...).
    """

    def __init__(self, group_labels: tuple[str, ...]) -> None:
        self.group_labels = group_labels
        self.seen: deque[Seen] = deque()
        # cohort → its hosts seen in ``seen`` (with how many sightings), whatever they deviated
        # in: one fault is one incident, not one per metric.
        self.by_cohort: dict[Cohort, dict[str, int]] = {}
        # "metric:direction" → hosts seen in ``seen`` with it: a host incident's peers.
        self.by_deviation: dict[str, dict[str, int]] = {}
        # cohort → how many times a host entered its entry of by_cohort: an open fleet incident
        # that absorbed its cohort at the same count has no host left to absorb.
        self.joins: Counter[Cohort] = Counter()
        self._joined: dict[Cohort, list[str]] = {}  # watched cohort → hosts that entered since

    def add_one(self, seen: Seen) -> None:
        """Index one deviation."""
        self.seen.append(seen)
        self._index(seen, 1)

    def expire(self, before: datetime) -> None:
        """Forget the deviations seen before ``before``."""
        while self.seen and self.seen[0].at < before:
            self._index(self.seen.popleft(), -1)

    def hosts_of(self, cohort: Cohort) -> Collection[str]:
        """Hosts of ``cohort`` that deviated in any way within the gap (a live view)."""
        return self.by_cohort.get(cohort, ())

    def watch(self, cohort: Cohort) -> list[str]:
        """Hosts that entered ``cohort`` since the last ``watch`` of it; from now, list anew.

        Empty the first time: the caller then reads the whole cohort (``hosts_of``).
        """
        joined = self._joined.get(cohort, [])
        self._joined[cohort] = []
        return joined

    def watching(self, cohort: Cohort) -> bool:
        """Whether hosts entering ``cohort`` are listed (an open fleet incident absorbs them)."""
        return cohort in self._joined

    def unwatch(self, cohort: Cohort) -> None:
        """Stop listing hosts entering ``cohort`` (its fleet incident closed or moved)."""
        self._joined.pop(cohort, None)

    def peers_of(self, state: TrackedIncident) -> set[str]:
        """Other hosts that recently deviated as ``state``'s host did (in one metric or more)."""
        peers: set[str] = set()
        for metric, direction in state.directions.items():
            peers.update(self.by_deviation.get(f"{metric}:{direction}", ()))
        return peers - state.nodes

    def _index(self, seen: Seen, step: int) -> None:
        node_id = seen.node_id
        for key in self.group_labels:
            value = seen.labels.get(key)
            if value is not None and _count(self.by_cohort, (key, value), node_id, step):
                self.joins[(key, value)] += 1
                joined = self._joined.get((key, value))
                if joined is not None:
                    joined.append(node_id)
        _count(self.by_deviation, seen.deviation, node_id, step)


def _count(index: dict[_K, dict[str, int]], key: _K, node_id: str, step: int) -> bool:
    """Add ``step`` sightings of ``node_id`` under ``key``; True when the node is new there."""
    # Plain dicts, not Counters: this runs a few times per event, and a Counter made for every
    # call of ``setdefault`` was a tenth of the stage's time.
    nodes = index.get(key)
    if nodes is None:
        nodes = index[key] = {}
    sightings = nodes.get(node_id, 0) + step
    if sightings > 0:
        nodes[node_id] = sightings
        return step > 0 and sightings == step
    nodes.pop(node_id, None)
    if not nodes:
        del index[key]
    return False
