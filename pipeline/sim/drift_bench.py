"""``fleetwatch eval drift``: slow faults on a simulated fleet, caught in time or not.

Every host of :mod:`pipeline.sim.capacity` runs through the default detector and the worker's
event windows, exactly as in production; a static rule (the percent series at or above 90) is
measured on the same data. A fault is *caught in time* when an event on its series family (a
``mem.*`` or ``disk.*`` series, or a host event led by one) comes at least ``reaction_s`` before
the series reaches its limit (memory 95 %, disk 98 %): the time an operator or a runbook needs
to act. The lead is the time from that first event to the limit (0 when missed). False events
are every event on a host without an active fault, after the first two days (a new host's
models learn its daily schedule from two occurrences).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pipeline.detect.registry import make_host_detector
from pipeline.detect.windowing import WindowTracker
from pipeline.models import AnomalyEvent
from pipeline.sim.capacity import LIMITS, CapacityHost, fleet_times, make_host

STATIC_LEVEL = 90.0
STATIC_REARM = 88.0
LEARNING_S = 2 * 86_400.0  # a daily schedule is learned from two occurrences
FAMILY = {"memory_leak": "mem.", "disk_filling": "disk."}


@dataclass(frozen=True)
class Outcome:
    """What the detector and the static rule made of one faulted host."""

    kind: str
    rate_per_h: float
    crossing_s: float
    alarm_s: float  # first event on the fault's family after its start (inf: none)
    static_s: float


@dataclass
class DriftReport:
    """The benchmark's figures (see the module docstring)."""

    hosts: int
    days: int
    outcomes: list[Outcome] = field(default_factory=list)
    false_events: int = 0
    static_false_events: int = 0
    quiet_host_days: float = 0.0
    reaction_s: float = 1800.0
    # False events by (reason, series, hour of day UTC): where the false rate comes from.
    false_by: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def figures(self) -> dict[str, float | int]:
        """The JSON object ``eval drift --json`` prints."""
        return {
            "caught_in_time": self._caught("alarm_s"),
            "median_lead_h": self._median_lead("alarm_s"),
            "false_per_host_day": self.false_events / max(self.quiet_host_days, 1e-9),
            "false_events": self.false_events,
            "static_caught_in_time": self._caught("static_s"),
            "static_median_lead_h": self._median_lead("static_s"),
            "static_false_per_host_day": self.static_false_events / max(self.quiet_host_days, 1e-9),
            "faults": len(self.outcomes),
            "hosts": self.hosts,
            "days": self.days,
            "reaction_min": self.reaction_s / 60.0,
        }

    def breakdown(self) -> list[tuple[str, str, int, int]]:
        """False events as (reason, series, hour of day, count), the most frequent first.

        A host event's series is its top contributor, as ``host<metric>``.
        """
        return [(*key, count) for key, count in self.false_by.most_common()]

    def _lead_h(self, o: Outcome, attr: str) -> float:
        alarm_s: float = getattr(o, attr)
        return max(o.crossing_s - alarm_s, 0.0) / 3600.0

    def _caught(self, attr: str) -> float:
        leads = [self._lead_h(o, attr) for o in self.outcomes]
        return float(np.mean([lead * 3600.0 >= self.reaction_s for lead in leads]))

    def _median_lead(self, attr: str) -> float:
        """Median lead over the faults of at most 5 %/h (a miss leads by 0)."""
        leads = [self._lead_h(o, attr) for o in self.outcomes if o.rate_per_h <= 5.0]
        return float(np.median(leads)) if leads else float("nan")


def run_fleet(
    hosts: int = 60,
    days: int = 10,
    interval_s: float = 60.0,
    seed: int = 0,
    on_host: Callable[[], None] | None = None,
) -> DriftReport:
    """Simulate ``hosts`` hosts for ``days`` days and score detector and static rule."""
    report = DriftReport(hosts, days)
    for index in range(hosts):
        host = make_host(index, days, interval_s, history_days=3.0, seed=seed)
        events = detect_host(host)
        score_host(report, host, events)
        if on_host is not None:
            on_host()
    return report


def detect_host(host: CapacityHost) -> list[AnomalyEvent]:
    """Every event the worker would raise for ``host``."""
    detector = make_host_detector()
    tracker = WindowTracker(window_s=60.0)
    names = list(host.metrics)
    matrix = np.column_stack([host.metrics[n] for n in names])
    events: list[AnomalyEvent] = []
    times = fleet_times(host.times_s)
    for i, at in enumerate(times):
        score = detector.process_one(dict(zip(names, matrix[i].tolist(), strict=True)), at)
        events += tracker.update(host.node_id, {}, at, score)
    return events + tracker.flush(times[-1])


def score_host(report: DriftReport, host: CapacityHost, events: list[AnomalyEvent]) -> None:
    """Add ``host``'s events to ``report``: false ones, and its fault caught or not."""
    end_s = float(host.times_s[-1])
    quiet_until = min(host.start_s, end_s)
    report.quiet_host_days += max(quiet_until - LEARNING_S, 0.0) / 86_400.0
    t0 = host.times_s[0]
    for event in events:
        at_s = _seconds(event)
        if LEARNING_S <= at_s < quiet_until:
            report.false_events += 1
            report.false_by[(event.reason, _series_of(event), int(at_s % 86_400 // 3600))] += 1
    report.static_false_events += sum(
        _static_alarms(host, metric, LEARNING_S, quiet_until) for metric, _ in LIMITS.values()
    )
    if host.kind in FAMILY:
        metric, _ = LIMITS[host.kind]
        alarm = min(
            (
                _seconds(e)
                for e in events
                if _seconds(e) >= host.start_s and _on_family(e, host.kind)
            ),
            default=float("inf"),
        )
        above = np.flatnonzero(
            (host.metrics[metric] >= STATIC_LEVEL) & (host.times_s >= host.start_s)
        )
        static = float(host.times_s[above[0]] - t0) if len(above) else float("inf")
        report.outcomes.append(Outcome(host.kind, host.rate_per_h, host.crossing_s, alarm, static))


def _seconds(event: AnomalyEvent) -> float:
    """When an event is raised (its window's end), in seconds after the run's start."""
    from pipeline.sim.capacity import T0

    return (event.window_end_at - T0).total_seconds()


def _series_of(event: AnomalyEvent) -> str:
    """The event's series, or its host event's top contributor as ``host<metric>``."""
    if event.metric is not None:
        return event.metric
    return f"host<{event.contributors[0].metric if event.contributors else '?'}>"


def _on_family(event: AnomalyEvent, kind: str) -> bool:
    prefix = FAMILY[kind]
    if event.metric is not None:
        return event.metric.startswith(prefix)
    return bool(event.contributors) and event.contributors[0].metric.startswith(prefix)


def _static_alarms(host: CapacityHost, metric: str, from_s: float, until_s: float) -> int:
    """Episodes of ``metric`` >= 90 (re-armed below 88) starting within [from_s, until_s)."""
    values, alarms, on = host.metrics[metric], 0, False
    for t, v in zip(host.times_s, values, strict=True):
        if not on and v >= STATIC_LEVEL:
            on = True
            alarms += from_s <= t < until_s
        elif on and v < STATIC_REARM:
            on = False
    return alarms
