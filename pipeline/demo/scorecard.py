"""The demo's scorecard: injected faults against what the pipeline flagged, pure arithmetic.

A detection *explains* a fault when it is on one of the fault's nodes and its window overlaps the
fault's span (plus ``grace_s`` after the end, for detectors that close windows late); it
*detects* the fault when it also is on one of the fault's metrics (a host-wide detection when one
of its contributors is). A detection that explains no fault is a false alarm. Delays run from the
fault's start to the first detecting event's ``detected_at`` (or ``window_end_at``). Operators are
paged by incidents, not events: an incident none of whose nodes had a fault while it was open (plus
``grace_s``) is a false incident. Each fault's incidents are judged by ``verdicts``: right kind,
right culprit, right action, and simulated time to the first right action.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal

from pipeline.demo.verdicts import ActionTaken, judge_one
from pipeline.models import AnomalyEvent, ChangeEvent, Incident


@dataclass(frozen=True)
class InjectedFault:
    """Ground truth: a fault the simulator injected.

    Parameters
    ----------
    fault_id
        Unique name of this injection.
    kind
        e.g. ``runaway_cpu``, ``memory_leak``, ``disk_fill``, ``network_loss``, ``bad_deploy``.
    node_ids
        Nodes it was injected on (a bad deploy hits a whole role).
    metrics
        Glob patterns of the metrics that reveal it (``cpu.*``); empty means any metric.
    start_at, end_at
        When it was active (tz-aware).
    change_id
        The change event that caused it (a bad deploy), which the diagnosis must blame.
    """

    fault_id: str
    kind: str
    node_ids: frozenset[str]
    metrics: tuple[str, ...]
    start_at: datetime
    end_at: datetime
    change_id: str | None = None

    @classmethod
    def from_ground_truth(
        cls, record: Mapping[str, Any], change: ChangeEvent | None = None
    ) -> InjectedFault:
        """Parse one line of the simulator's ground-truth file (times in ISO-8601 with zone).

        ``change`` is the change event recorded for the fault (a bad deploy), to be blamed.
        """
        return cls(
            fault_id=str(record["fault_id"]),
            kind=str(record["kind"]),
            node_ids=frozenset(record["node_ids"]),
            metrics=tuple(record.get("metrics") or ()),
            start_at=datetime.fromisoformat(record["start_at"]),
            end_at=datetime.fromisoformat(record["end_at"]),
            change_id=change.change_id if change is not None else record.get("change_id"),
        )

    def __post_init__(self) -> None:
        if not self.node_ids:
            raise ValueError(f"fault {self.fault_id!r} names no node")
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            raise ValueError(f"fault {self.fault_id!r} times must carry a time zone")
        if self.end_at <= self.start_at:
            raise ValueError(f"fault {self.fault_id!r} ends before it starts")


@dataclass(frozen=True)
class Detection:
    """One anomaly event as scored; ``metric`` None = host-wide, made by ``contributors``."""

    event_id: str
    node_id: str
    metric: str | None
    window_start_at: datetime
    window_end_at: datetime
    detected_at: datetime
    contributors: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: AnomalyEvent) -> Detection:
        """The detection an AnomalyEvent (as consumed from fleet.anomalies) stands for."""
        return cls(
            event.event_id,
            event.node_id,
            event.metric,
            event.window_start_at,
            event.window_end_at,
            event.detected_at,
            tuple(c.metric for c in event.contributors),
        )


@dataclass(frozen=True)
class IncidentSpan:
    """One incident as scored: its nodes, when it was open, what its diagnosis named."""

    incident_id: str
    node_ids: frozenset[str]
    opened_at: datetime
    last_at: datetime
    diagnosis_kind: str | None = None
    culprit_node: str | None = None
    culprit_change: str | None = None
    culprit_process: str | None = None

    @classmethod
    def from_incident(cls, incident: Incident) -> IncidentSpan:
        """The span of an Incident's latest state (its last event, or its resolution)."""
        nodes = set(incident.affected_nodes) | ({incident.node_id} if incident.node_id else set())
        last_at = max(incident.updated_at, incident.opened_at)
        diagnosis = getattr(incident, "diagnosis", None)
        culprit = diagnosis.culprit if diagnosis is not None else None
        return cls(
            incident.incident_id,
            frozenset(nodes),
            incident.opened_at,
            last_at,
            diagnosis.kind if diagnosis is not None else None,
            culprit.node_id if culprit is not None else None,
            culprit.change_id if culprit is not None else None,
            culprit.process if culprit is not None else None,
        )

    def explained_by(self, fault: InjectedFault, grace: timedelta) -> bool:
        """Whether ``fault`` was on one of its nodes while it was open."""
        return (
            bool(self.node_ids & fault.node_ids)
            and self.opened_at < fault.end_at + grace
            and self.last_at >= fault.start_at
        )


@dataclass(frozen=True)
class FaultOutcome:
    """How one injected fault fared: detection, then the verdict on its incidents."""

    fault_id: str
    kind: str
    detected: bool
    delay_s: float | None
    first_event_id: str | None
    nodes_detected: int
    nodes: int
    incidents: int = 0
    incident_ids: tuple[str, ...] = ()
    diagnosed_as: str | None = None
    culprit_named: str | None = None
    actions: tuple[str, ...] = ()
    kind_right: bool = False
    culprit_right: bool = False
    action_right: bool = False
    mitigation_s: float | None = None


@dataclass(frozen=True)
class Scorecard:
    """The figures the demo prints (and ``--json`` emits)."""

    faults_injected: int
    faults_detected: int
    faults_kind_right: int
    faults_culprit_right: int
    faults_action_right: int
    false_alarms: int
    median_detection_delay_s: float | None
    max_detection_delay_s: float | None
    anomaly_events: int
    incidents: int
    false_incidents: int
    actions_proposed: int
    faults: tuple[FaultOutcome, ...]

    @property
    def missed(self) -> list[str]:
        """Ids of faults nothing detected."""
        return [outcome.fault_id for outcome in self.faults if not outcome.detected]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dict: the headline figures plus one entry per fault."""
        return asdict(self)


def score_run(
    faults: Sequence[InjectedFault],
    detections: Iterable[Detection],
    incident_ids: Iterable[str | IncidentSpan] = (),
    action_ids: Iterable[str] = (),
    grace_s: float = 120.0,
    clock: Literal["detected_at", "window_end_at"] = "detected_at",
    actions: Sequence[ActionTaken] = (),
) -> Scorecard:
    """Score one run. Events, incidents and actions are counted once per id (replays dedupe).

    Parameters
    ----------
    faults
        The injected ground truth.
    detections
        Every anomaly event of the run (duplicates by ``event_id`` are dropped).
    incident_ids
        Every incident message, as its id or its span (an incident updated five times counts
        once); only spans can be judged false.
    action_ids
        Ids of every remediation request proposed.
    grace_s
        Seconds after a fault ends during which its detections still explain it.
    clock
        What a delay runs to: ``detected_at`` (wall clock, for a live run) or ``window_end_at``
        (data time, for a simulation faster than real time).
    actions
        The requests issued, with their incident, for each fault's action verdict.
    """
    unique = list({d.event_id: d for d in detections}.values())
    grace = timedelta(seconds=grace_s)
    given = list(incident_ids)
    spans = {i.incident_id: i for i in given if isinstance(i, IncidentSpan)}
    ids = {i for i in given if isinstance(i, str)} | set(spans)
    outcomes = tuple(
        _judged(_outcome(fault, unique, grace, clock), fault, list(spans.values()), actions, grace)
        for fault in faults
    )
    delays = [o.delay_s for o in outcomes if o.delay_s is not None]
    false_alarms = sum(1 for d in unique if not any(_explains(d, f, grace) for f in faults))
    false_incidents = sum(
        1 for span in spans.values() if not any(span.explained_by(f, grace) for f in faults)
    )
    return Scorecard(
        faults_injected=len(faults),
        faults_detected=sum(1 for o in outcomes if o.detected),
        faults_kind_right=sum(1 for o in outcomes if o.kind_right),
        faults_culprit_right=sum(1 for o in outcomes if o.culprit_right),
        faults_action_right=sum(1 for o in outcomes if o.action_right),
        false_alarms=false_alarms,
        median_detection_delay_s=statistics.median(delays) if delays else None,
        max_detection_delay_s=max(delays) if delays else None,
        anomaly_events=len(unique),
        incidents=len(ids),
        false_incidents=false_incidents,
        actions_proposed=len(set(action_ids)),
        faults=outcomes,
    )


def _explains(detection: Detection, fault: InjectedFault, grace: timedelta) -> bool:
    return (
        detection.node_id in fault.node_ids
        and detection.window_start_at < fault.end_at + grace
        and detection.window_end_at > fault.start_at
    )


def _detects(detection: Detection, fault: InjectedFault, grace: timedelta) -> bool:
    if not _explains(detection, fault, grace):
        return False
    if not fault.metrics:
        return True
    metrics = (detection.metric,) if detection.metric is not None else detection.contributors
    return any(fnmatchcase(m, pattern) for m in metrics for pattern in fault.metrics)


def _judged(
    outcome: FaultOutcome,
    fault: InjectedFault,
    spans: Sequence[IncidentSpan],
    actions: Sequence[ActionTaken],
    grace: timedelta,
) -> FaultOutcome:
    verdict = judge_one(fault, spans, actions, grace)
    return replace(
        outcome,
        incidents=len(verdict.incidents),
        incident_ids=verdict.incidents,
        diagnosed_as=verdict.kind,
        culprit_named=verdict.culprit,
        actions=verdict.actions,
        kind_right=verdict.kind_right,
        culprit_right=verdict.culprit_right,
        action_right=verdict.action_right,
        mitigation_s=verdict.mitigation_s,
    )


def _outcome(
    fault: InjectedFault, detections: Sequence[Detection], grace: timedelta, clock: str
) -> FaultOutcome:
    def known_at(detection: Detection) -> datetime:
        moment: datetime = getattr(detection, clock)
        return moment

    hits = sorted((d for d in detections if _detects(d, fault, grace)), key=known_at)
    if not hits:
        return FaultOutcome(fault.fault_id, fault.kind, False, None, None, 0, len(fault.node_ids))
    first = hits[0]
    delay_s = max(0.0, (known_at(first) - fault.start_at).total_seconds())
    nodes_detected = len({d.node_id for d in hits})
    return FaultOutcome(
        fault.fault_id,
        fault.kind,
        True,
        delay_s,
        first.event_id,
        nodes_detected,
        len(fault.node_ids),
    )
