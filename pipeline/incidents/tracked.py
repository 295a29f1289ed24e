"""An incident while the tracker holds it, and how one is rebuilt from the incident memory."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from pipeline.models import SEVERITY_RANK, MetricDeviation, RememberedIncident

LISTED_NODES = 64  # an incident names at most this many of its hosts (the model's limit)


@dataclass
class TrackedIncident:
    """One incident while it is tracked (mutable; published as an immutable Incident)."""

    incident_id: str
    dedup_key: str
    kind: str
    opened_at: datetime
    node_id: str | None = None
    group: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)
    deviations: dict[str, MetricDeviation] = field(default_factory=dict)
    directions: dict[str, str] = field(default_factory=dict)
    severity: str = "info"
    event_count: int = 0
    last_event_at: datetime | None = None
    # The stream's clock (newest event time of any host) when its last event arrived: a host
    # whose partition lags sends events that clock is far past (see GroupingPolicy.resolve_at).
    last_arrived_at: datetime | None = None
    status: str = "open"
    opened_seen: datetime | None = None  # event time the tracker first saw it (for settle_s)
    published: bool = False  # ready to be published (settled, or a fleet incident)
    announced: bool = False  # published at least once, so later changes are "updated"
    resolved_at: datetime | None = None
    # The wall clock (monotonic) when it resolved here; restored ones count as long ago.
    resolved_monotonic_s: float = float("-inf")
    reopen_count: int = 0
    population: int | None = None
    owner: str | None = None
    acknowledged_by: str | None = None
    dirty: bool = False  # changed since last published; the next tick publishes it
    emitted: tuple[object, ...] = ()  # what was material when last published
    absorbed_joins: int = -1  # the tracker's join count of its cohort when it last absorbed it
    # The LISTED_NODES smallest of ``nodes``, sorted, kept as hosts join: a fleet incident of
    # thousands of hosts is published whenever one joins, and picking them afresh each time
    # was a fifth of the stage's time.
    listed_nodes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listed_nodes = sorted(self.nodes)[:LISTED_NODES]

    def add_node(self, node_id: str) -> None:
        """Count ``node_id`` among the incident's hosts (use this, not ``nodes.add``)."""
        if node_id in self.nodes:
            return
        self.nodes.add(node_id)
        listed = self.listed_nodes
        if len(listed) < LISTED_NODES or node_id < listed[-1]:
            bisect.insort(listed, node_id)
            del listed[LISTED_NODES:]

    def page_as_group(self, group: dict[str, str], population: int | None, at: datetime) -> None:
        """Make it the incident of a group of hosts, published at once (``at``: first seen)."""
        self.group, self.labels, self.population = group, dict(group), population
        self.opened_seen, self.published = at, True

    def merge_deviation(self, item: MetricDeviation, direction: str) -> None:
        """Take one metric's deviation: its peak is kept, with the earliest time it was seen."""
        current = self.deviations.get(item.metric)
        if current is None:
            self.deviations[item.metric], self.directions[item.metric] = item, direction
            return
        peak = item if item.score > current.score else current
        first_at = min(item.first_at, current.first_at)
        self.deviations[item.metric] = peak.model_copy(update={"first_at": first_at})

    def take_over(self, host: TrackedIncident) -> None:
        """Fold a host incident into this one: its deviations, events, severity and last time."""
        for metric, item in host.deviations.items():
            self.merge_deviation(item, host.directions[metric])
        self.event_count += host.event_count
        self.severity = max(self.severity, host.severity, key=SEVERITY_RANK.__getitem__)
        self.last_event_at = max(filter(None, (self.last_event_at, host.last_event_at)))
        # Neither may be known: a host incident restored after a restart, a fleet one just opened.
        arrived = (self.last_arrived_at, host.last_arrived_at)
        self.last_arrived_at = max(filter(None, arrived), default=None)

    @classmethod
    def from_memory(cls, memory: RememberedIncident) -> TrackedIncident:
        """The tracked state a remembered incident had when it was last published."""
        incident = memory.incident
        deviations = {d.metric: d for d in memory.deviations}
        return cls(
            incident_id=incident.incident_id,
            dedup_key=incident.dedup_key,
            kind=incident.kind,
            opened_at=incident.opened_at,
            node_id=incident.node_id,
            group=dict(incident.group),
            labels=dict(incident.labels),
            nodes=set(incident.affected_nodes),
            deviations=deviations,
            directions={m: memory.directions.get(m, "up") for m in deviations},
            severity=incident.severity,
            event_count=incident.event_count,
            last_event_at=incident.updated_at,
            # published before the restart: a later change is an update, never a new page
            status="resolved" if incident.status == "resolved" else "updated",
            opened_seen=incident.opened_at,
            published=True,
            announced=True,
            resolved_at=incident.resolved_at,
            reopen_count=incident.reopen_count,
            population=incident.population,
            owner=incident.owner,
            acknowledged_by=incident.acknowledged_by,
        )


class Seen(NamedTuple):
    """One deviation the tracker saw recently: when, on which node, with which labels."""

    # A named tuple, not a frozen dataclass: one is made per event, and a frozen dataclass's
    # __init__ sets each field through object.__setattr__.

    at: datetime
    node_id: str
    labels: dict[str, str]
    deviation: str  # "metric:direction"
