"""Pure grouping of anomaly events into host and fleet incidents, with their lifecycle.

All deviations of one host within ``gap_s`` of each other are one *host* incident. Deviations on
at least ``fleet_min_hosts`` hosts sharing a label value, and at least ``fleet_min_share`` of that
label's hosts, within ``gap_s``, open one *fleet* incident of that cohort (``role=web``): one
fault hitting a cohort moves different metrics first on different hosts, so the fleet incident is
keyed by the cohort, not the metric, and takes every later deviation of its member hosts and the
same deviations on other hosts of the cohort. Its members' unpublished host incidents are
absorbed, so a fleet-wide fault pages once. Host incidents wait ``settle_s`` before they are
published for exactly that reason (like Alertmanager's group_wait), and up to ``fleet_wait_s``
while half the hosts a fleet incident needs deviate in one of their cohorts. Keys and
ids are derived from the events only, so replaying the same events yields the same incidents. An
incident reopened within ``flap_window_s`` of resolving keeps its id and counts a reopen; after
``flap_threshold`` reopens it is ``flapping`` and stays open longer. Deviations of nodes a change
reached, soon after it, are one role incident keyed by the change once ``change_min_hosts`` of
them deviate (:mod:`change_cohorts`): a bad deploy to five nodes is too few for a fleet incident
and must not page five times.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from pipeline.incidents.change_cohorts import ChangeCohorts
from pipeline.incidents.deviations import deviation_in, deviation_of
from pipeline.incidents.hints import PastIncident, signature_of
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.recent import Cohort, RecentIndex
from pipeline.incidents.snapshot import material_of, snapshot_of
from pipeline.incidents.tracked import Seen, TrackedIncident
from pipeline.models import (
    SEVERITY_RANK,
    AnomalyEvent,
    ChangeEvent,
    Incident,
    RememberedIncident,
)

MAX_HISTORY = 1000


def incident_id_of(dedup_key: str, opened_at: datetime) -> str:
    """A stable id: the same key opened at the same event time always gets the same id."""
    stamp = int(opened_at.timestamp() * 1000)
    return "inc-" + hashlib.sha256(f"{dedup_key}|{stamp}".encode()).hexdigest()[:16]


class IncidentTracker:
    """Turn anomaly events into incident updates (pure: time is passed in).

    Parameters
    ----------
    policy
        Grouping and lifecycle thresholds.
    inventory
        Hosts per label, for the share of a fleet incident (an empty one means share unknown).
    monotonic_s
        The wall clock a resolved incident is kept by (see ``_forget_old_resolved``).
    """

    def __init__(
        self,
        policy: GroupingPolicy,
        inventory: Inventory | None = None,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._monotonic_s = monotonic_s
        self.inventory = inventory if inventory is not None else Inventory()
        self.open: dict[str, TrackedIncident] = {}  # dedup_key → state
        self.resolved: dict[str, TrackedIncident] = {}  # dedup_key → last resolved (flaps)
        self.history: deque[PastIncident] = deque(maxlen=MAX_HISTORY)
        self._recent = RecentIndex(policy.group_labels)
        self._pending_outcomes: dict[str, tuple[str, str]] = {}
        self.changes = ChangeCohorts(policy.change_window_s, policy.change_min_hosts)
        # Newest event time seen: changes expire by it, never by a tick's clock (see tick).
        self.latest_at: datetime | None = None

    def observe_change(self, change: ChangeEvent) -> None:
        """Take a change event: deviations of the nodes it reached soon after it are grouped."""
        self.changes.add_one(change)

    def observe_one(
        self, event: AnomalyEvent, deviation: tuple[str, str] | None = None
    ) -> list[Incident]:
        """Take one event; returns the incidents it changed that are ready to publish.

        ``deviation`` is the event's ``deviation_of``, when the caller has it already.
        """
        metric, direction = deviation or deviation_of(event)
        at = event.window_end_at
        seen = Seen(at, event.node_id, dict(event.labels), f"{metric}:{direction}")
        self.latest_at = max(at, self.latest_at or at)
        self._recent.add_one(seen)
        fleet = self._change_incident_for(event, at)
        if fleet is None:  # a change's nodes stay in its incident; a cohort one may not take them
            fleet = self._fleet_for(event, metric, direction)
            if fleet is None or not self._is_broadest(fleet, event):
                fleet = self._maybe_open_fleet(event, metric, direction, at) or fleet
        if fleet is not None:
            self._absorb_host(event.node_id, fleet)  # a joining host's own earlier deviations
        state = fleet or self._host_for(event)
        self._absorb_one(state, event, metric, direction, at)
        if not state.published:
            return []
        if state.announced and material_of(state) == state.emitted:
            # Only event counts, times and peaks moved: published once per tick, not once per
            # event (a cohort fault sends thousands of events into one incident within a poll).
            state.dirty = True
            return []
        return [self._emit(state)]

    def tick(self, now: datetime) -> list[Incident]:
        """Publish settled host incidents and resolve quiet ones; returns what changed.

        Changes expire by the newest event time, not by ``now``: before the first event the
        stage's clock is the wall clock, and a change recorded for a stream still catching up (a
        replay, the time-compressed demo) would be dropped before its events arrive.
        """
        changed: list[Incident] = []
        resolved = False
        if self.latest_at is not None:
            self.changes.expire(self.latest_at)
        self._recent.expire(now - timedelta(seconds=self.policy.gap_s))
        for key, state in list(self.open.items()):
            if self.policy.resolve_at(state) <= now:
                closed = self._resolve(key, state, now)
                resolved = resolved or bool(closed)
                changed += closed
            elif (
                not state.published and self._settled(state, now) and not self._forming(state, now)
            ):
                state.published = True
                changed.append(self._emit(state))
            elif state.dirty:
                changed.append(self._emit(state))
        if resolved:
            # Once per tick, not once per resolved incident: thousands of host incidents closing
            # in one tick (fleet-wide noise at 1M nodes) each scanned every resolved one.
            self._forget_old_resolved(now)
        return changed

    def acknowledge(self, incident_id: str, by: str, owner: str | None) -> Incident | None:
        """Record an acknowledgement (and owner); None when the incident is not open."""
        for state in self.open.values():
            if state.incident_id == incident_id:
                state.acknowledged_by, state.status = by, "updated"
                state.owner = owner or state.owner
                return self._emit(state) if state.published else None
        return None

    def restore_one(self, memory: RememberedIncident) -> None:
        """Take back a remembered incident after a restart: open ones continue, same id."""
        state = TrackedIncident.from_memory(memory)
        if state.status == "resolved":
            self.resolved[state.dedup_key] = state
            return
        self.open[state.dedup_key] = state
        if state.dedup_key.startswith("change:"):  # its members' deviations keep joining it
            self.changes.incident_keys.add(state.dedup_key)

    def find_one(self, incident_id: str, dedup_key: str | None = None) -> TrackedIncident | None:
        """The open or recently resolved incident with ``incident_id`` (found at once by key)."""
        if dedup_key is not None:
            for state in (self.open.get(dedup_key), self.resolved.get(dedup_key)):
                if state is not None and state.incident_id == incident_id:
                    return state
        for state in (*self.open.values(), *self.resolved.values()):
            if state.incident_id == incident_id:
                return state
        return None

    def set_owner(self, incident_id: str, owner: str) -> None:
        """Give an open incident an owner (from the runbook rule that matched it)."""
        for state in self.open.values():
            if state.incident_id == incident_id and state.owner is None:
                state.owner = owner

    def record_outcome(self, incident_id: str, action: str, outcome: str) -> None:
        """Remember how remediation of an incident ended, for similar-incident hints."""
        for index, past in enumerate(self.history):
            if past.incident_id == incident_id:
                self.history[index] = PastIncident(incident_id, past.signature, action, outcome)
                return
        self._pending_outcomes[incident_id] = (action, outcome)

    def snapshot(self, state: TrackedIncident) -> Incident:
        """The immutable, publishable view of ``state``."""
        others = (p for p in self.history if p.incident_id != state.incident_id)
        peers = self._recent.peers_of(state) if state.kind == "host" else ()
        return snapshot_of(state, others, self.policy.flapping(state), peers)

    def _emit(self, state: TrackedIncident) -> Incident:
        state.announced, state.dirty = True, False
        state.emitted = material_of(state)
        return self.snapshot(state)

    def _settled(self, state: TrackedIncident, now: datetime) -> bool:
        seen = state.opened_seen or state.opened_at
        return seen + timedelta(seconds=self.policy.settle_s) <= now

    def _forming(self, state: TrackedIncident, now: datetime) -> bool:
        """Whether a host incident should wait: a fleet incident of one of its cohorts may form.

        That is while at least half the hosts a fleet incident needs deviate in that cohort.
        """
        seen = state.opened_seen or state.opened_at
        if state.kind != "host" or seen + timedelta(seconds=self.policy.fleet_wait_s) <= now:
            return False
        if state.node_id is not None and self.changes.forming(state.node_id, state.labels, seen):
            return True  # a change reached it just before: its other nodes may follow
        cohorts = {(k, v) for k, v in state.labels.items() if k in self.policy.group_labels}
        return any(
            len(self._recent.hosts_of(cohort)) * 2 >= self.policy.fleet_min_hosts
            for cohort in cohorts
        )

    def _change_incident_for(self, event: AnomalyEvent, at: datetime) -> TrackedIncident | None:
        """The incident of the change that reached the event's node just before, once it has one.

        Opened when ``change_min_hosts`` of the change's nodes deviated within its window; its
        members' later deviations join it while it is open, as a fleet incident's do.
        """
        change = self.changes.change_for(event.node_id, event.labels, at)
        if change is None:  # its nodes' later deviations join its incident while it is open
            return self.changes.incident_holding(event.node_id, self.open)
        # A detector's window may reach back before the change; the incident starts at it, so the
        # diagnosis weighs what changed after the deploy against what was before it.
        first_at = max(event.window_start_at, change.changed_at)
        nodes = self.changes.note_one(change.change_id, event.node_id, first_at)
        state = self.open.get(f"change:{change.change_id}")
        if state is None and len(nodes) >= self.changes.min_hosts:
            state = self._open_change(change, event.labels.get("role"), min(nodes.values()), at)
            for node_id in nodes:
                self._absorb_host(node_id, state)
        return state

    def _open_change(
        self, change: ChangeEvent, role: str | None, first_at: datetime, at: datetime
    ) -> TrackedIncident:
        dedup_key = f"change:{change.change_id}"
        state = self._reopened(dedup_key, at) or TrackedIncident(
            incident_id_of(dedup_key, first_at), dedup_key, "fleet", opened_at=first_at
        )
        role = change.role or role
        population = (self.inventory.population("role", role) or None) if role else None
        state.page_as_group(
            {"role": role} if role else {"change": change.change_id}, population, at
        )
        self.open[dedup_key] = state
        self.changes.incident_keys.add(dedup_key)
        return state

    def _fleet_for(
        self, event: AnomalyEvent, metric: str, direction: str
    ) -> TrackedIncident | None:
        for key, value in event.labels.items():
            state = self.open.get(f"fleet:{key}={value}")
            if state is None:
                continue
            if event.node_id in state.nodes or state.directions.get(metric) == direction:
                return state
        return None

    def _is_broadest(self, fleet: TrackedIncident, event: AnomalyEvent) -> bool:
        """Whether ``fleet`` is grouped by the event's broadest label already (role over zone)."""
        (key,) = fleet.group or {"": ""}
        for label in self.policy.group_labels:
            if label in event.labels:
                return key == label
        return True

    def _maybe_open_fleet(
        self, event: AnomalyEvent, metric: str, direction: str, at: datetime
    ) -> TrackedIncident | None:
        best: tuple[int, str, str, int | None] | None = None
        taken = self.changes.held_nodes(self.open)  # not the cohort's: a change incident's
        for key in self.policy.group_labels:
            value = event.labels.get(key)
            if value is None:
                continue
            hosts = self._recent.hosts_of((key, value))
            count = len(hosts) - len(taken.intersection(hosts)) if taken else len(hosts)
            if count < self.policy.fleet_min_hosts:
                continue
            population = self.inventory.population(key, value) or None
            if population and count / population < self.policy.fleet_min_share:
                continue
            if best is None or count > best[0]:
                best = (count, key, value, population)
        if best is None:
            return None
        _, key, value, population = best
        return self._open_fleet(key, value, metric, direction, population, at)

    def _open_fleet(
        self,
        key: str,
        value: str,
        metric: str,
        direction: str,
        population: int | None,
        at: datetime,
    ) -> TrackedIncident:
        dedup_key = f"fleet:{key}={value}"
        state = self.open.get(dedup_key)
        # Open already (a cohort's every later event lands here): its members were absorbed when
        # they joined, so only newcomers are, and none joined since the count it absorbed at; a
        # member's later events go to a fleet incident, never to a host one of its own.
        joins = self._recent.joins[(key, value)]
        if state is not None and state.absorbed_joins == joins:
            # The common case, once per event of a cohort fault: its group, labels and key are
            # as the last absorption set them; only the population and the time move.
            state.population, state.opened_seen = population, at
            return state
        joining = self._joining((key, value), state)
        if self.changes.incident_keys:
            joining = set(joining) - self.changes.held_nodes(self.open)
        state = (
            state
            or self._narrower_fleet(f"{metric}:{direction}", set(joining))
            or self._reopened(dedup_key, at)
            or self._new_fleet(dedup_key, set(joining))
        )
        state.absorbed_joins = joins
        state.dedup_key = dedup_key
        state.page_as_group({key: value}, population, at)  # the page; nothing to wait for
        # In name order, not set order: which of two equal peaks a fleet incident keeps depends on
        # the order hosts are absorbed, and set order changes with each process's hash seed, so a
        # restarted stage replaying the same events could publish a different incident.
        for node_id in sorted(joining):
            self._absorb_host(node_id, state)
        self.open[dedup_key] = state
        return state

    def _joining(self, cohort: Cohort, state: TrackedIncident | None) -> Collection[str]:
        """Hosts of ``cohort`` an open fleet incident of it has yet to absorb (all, if none is).

        From now on, hosts entering the cohort are listed until the next call.
        """
        watched = self._recent.watching(cohort)
        joined = self._recent.watch(cohort)
        hosts = self._recent.hosts_of(cohort)
        if state is None:
            return set(hosts)
        # Listed since this incident last absorbed the cohort (a restored one has not): only they
        # can be missing from it, as every host of the cohort then was absorbed.
        candidates = joined if watched and state.absorbed_joins >= 0 else hosts
        return {n for n in candidates if n in hosts and n not in state.nodes}

    def _new_fleet(self, dedup_key: str, nodes: set[str]) -> TrackedIncident:
        """A fleet incident opened at the earliest recent deviation of its hosts."""
        first_at = min(s.at for s in self._recent.seen if s.node_id in nodes)
        return TrackedIncident(
            incident_id_of(dedup_key, first_at), dedup_key, "fleet", opened_at=first_at
        )

    def _narrower_fleet(self, deviation: str, nodes: set[str]) -> TrackedIncident | None:
        """An open fleet incident of the same deviation whose hosts all fall in ``nodes``.

        Partitions deliver hosts in any order, so a narrow group (one zone) can qualify before
        the broad one (the role): the broad one then takes the narrow one over, keeping its id,
        so operators are paged once per deviation.
        """
        metric, direction = deviation.rsplit(":", 1)
        for dedup_key, state in list(self.open.items()):
            if (
                state.kind == "fleet"
                and not dedup_key.startswith("change:")
                and state.directions.get(metric) == direction
                and state.nodes <= nodes
            ):
                del self.open[dedup_key]
                self._recent.unwatch(_cohort_of(state))
                return state
        return None

    def _absorb_host(self, node_id: str, fleet: TrackedIncident) -> None:
        """Fold a member's unpublished host incident into the fleet one (all its deviations)."""
        fleet.add_node(node_id)
        host = self.open.get(f"host:{node_id}")
        if host is not None and not host.published:
            del self.open[host.dedup_key]
            fleet.take_over(host)

    def _host_for(self, event: AnomalyEvent) -> TrackedIncident:
        dedup_key = f"host:{event.node_id}"
        state = self.open.get(dedup_key)
        if state is not None:
            return state
        opened_at = event.window_start_at
        state = self._reopened(dedup_key, event.window_end_at) or TrackedIncident(
            incident_id_of(dedup_key, opened_at), dedup_key, "host", opened_at=opened_at
        )
        state.node_id, state.labels = event.node_id, dict(event.labels)
        state.opened_seen = event.window_end_at
        self.open[dedup_key] = state
        return state

    def _reopened(self, dedup_key: str, at: datetime) -> TrackedIncident | None:
        """The same incident again when it went quiet (``quiet_at``) within ``flap_window_s``.

        An event from before its incident went quiet continues it, uncounted: the host never was
        quiet, so it is no flap. Counted, every late event of a slow memory leak from a lagging
        partition reopened its incident, flapping (so never acted on) within minutes.
        """
        state = self.resolved.pop(dedup_key, None)
        if state is None or state.resolved_at is None or state.last_event_at is None:
            return None
        quiet_at = self.policy.quiet_at(state)
        if at - quiet_at > timedelta(seconds=self.policy.flap_window_s):
            return None
        if at > quiet_at:
            state.reopen_count += 1
        state.status, state.resolved_at = "updated", None
        return state

    def _absorb_one(
        self, state: TrackedIncident, event: AnomalyEvent, metric: str, direction: str, at: datetime
    ) -> None:
        current = state.deviations.get(metric)
        if (
            current is None
            or event.score > current.score
            or event.window_start_at < current.first_at
        ):  # otherwise the event changes no deviation: no model built for it
            state.merge_deviation(deviation_in(event, metric), direction)
        if state.announced and state.status == "open":
            state.status = "updated"
        state.add_node(event.node_id)
        state.event_count += 1
        if SEVERITY_RANK[event.severity] > SEVERITY_RANK[state.severity]:
            state.severity = event.severity
        if state.last_event_at is None or at > state.last_event_at:
            state.last_event_at = at
        state.last_arrived_at = self.latest_at

    def _resolve(self, key: str, state: TrackedIncident, now: datetime) -> list[Incident]:
        del self.open[key]
        if state.kind == "fleet":
            self._recent.unwatch(_cohort_of(state))
        opened: list[Incident] = []
        if not state.published:
            if not self.policy.settled_before_quiet(state):
                return []  # never paged: a blip shorter than settle_s disappears quietly
            # It settled before it went quiet, but no tick fell in between (a poll of events
            # spanning more than the quiet time, a burst of catch-up): page it, then resolve.
            state.published = True
            opened.append(self._emit(state))
        state.status, state.resolved_at = "resolved", now
        state.resolved_monotonic_s = self._monotonic_s()
        self.resolved[key] = state
        action, outcome = self._pending_outcomes.pop(state.incident_id, (None, None))
        signature = signature_of(state.deviations, state.directions)
        self.history.append(PastIncident(state.incident_id, signature, action, outcome))
        return [*opened, self._emit(state)]

    def _forget_old_resolved(self, now: datetime) -> None:
        """Forget incidents resolved longer than the flap window ago, by both clocks.

        By the stream's clock alone, a host whose partition lags had its resolved incident
        forgotten before its own next event arrived (the demo's clock runs an hour a wall minute
        ahead of it), and that event, a reopen by the host's own time, opened a new incident for
        the same fault. Kept longer, a resolved incident costs memory only: ``_reopened`` judges
        by the host's own time. In a live stream both clocks agree.
        """
        horizon = now - timedelta(seconds=self.policy.flap_window_s)
        wall_horizon_s = self._monotonic_s() - self.policy.flap_window_s
        for key, state in list(self.resolved.items()):
            if (
                state.resolved_at is not None
                and state.resolved_at < horizon
                and state.resolved_monotonic_s < wall_horizon_s
            ):
                del self.resolved[key]


def _cohort_of(fleet: TrackedIncident) -> Cohort:
    """A fleet incident's cohort, (label, value)."""
    ((key, value),) = fleet.group.items() or (("", ""),)
    return key, value
