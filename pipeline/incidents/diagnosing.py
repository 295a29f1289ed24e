"""Diagnose each incident as the stage publishes it: its nodes' series, linked changes, history.

The evidence is what the worker stored: every metric of the incident's nodes from ``baseline_s``
before it opened to its last event (InfluxDB ``metrics``), with the incident window marked; the
changes on its nodes or role within the lookback; its title and metrics as text. Without stored
series (InfluxDB unreachable, ``write_detail`` off) there is nothing to weigh and the answer is
``unknown``: a human is paged. An incident is diagnosed when it opens and again when its set of
metrics grows; updates in between carry the last diagnosis. Every record the diagnosis memory
changes (diagnosed, labelled, an outcome added) is returned for the history topic. A diagnosis
that found no stored series (InfluxDB slow or away for a moment) is tried again, at most every
``retry_s``, on the incident's next update or when the stage asks (``retry_due``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from pipeline.errors import QueryError
from pipeline.incidents.changes import ChangeBook
from pipeline.incidents.diagnosis.evidence import ChangeRecord, Evidence, node_evidence
from pipeline.incidents.diagnosis.feedback import IncidentMemory
from pipeline.models import ChangeEvent, Diagnosis, Incident, PastIncident, RememberedIncident
from pipeline.store.frames import NodeFrame

log = logging.getLogger(__name__)

FrameSource = Callable[[Sequence[str], datetime, datetime], dict[str, NodeFrame]]
UNKNOWN = "unknown"
NO_SERIES = "no stored series"
# A fleet incident's series are read for its first nodes only: one query must stay cheap for
# InfluxDB (the stage waits for it), and a cohort fault looks alike on every node.
MAX_NODES = 8


class DiagnosisStep:
    """Diagnoses incidents, keeps each one's last diagnosis, and takes operator feedback.

    Parameters
    ----------
    frames
        Reads the nodes' series for a time range (``store.frames.query_frames`` bound to
        InfluxDB); None when there is nothing to read.
    changes
        Recent change events.
    memory
        The diagnoser with its history, and the incidents awaiting a label.
    baseline_s
        How much of the series before the incident opened is its baseline.
    retry_s
        Wall seconds before a diagnosis that had no series is tried again (each try may wait a
        whole query timeout, so not on every update).
    """

    def __init__(
        self,
        frames: FrameSource | None,
        changes: ChangeBook,
        memory: IncidentMemory | None = None,
        baseline_s: float = 900.0,
        retry_s: float = 30.0,
    ) -> None:
        self.frames = frames
        self.changes = changes
        self.memory = memory if memory is not None else IncidentMemory()
        self.baseline = timedelta(seconds=baseline_s)
        self.retry_s = retry_s
        self._last: dict[str, tuple[frozenset[str], Diagnosis]] = {}
        self._retry_at: dict[str, float] = {}  # incident id → monotonic time of its next try

    def restore_many(self, remembered: Iterable[RememberedIncident]) -> None:
        """Take back the last diagnosis of remembered incidents (no re-diagnosis on restart)."""
        for record in remembered:
            incident = record.incident
            if incident.diagnosis is not None and incident.status != "resolved":
                metrics = frozenset(incident.metrics)
                self._last[incident.incident_id] = (metrics, incident.diagnosis)

    def diagnosed(self, incident: Incident) -> tuple[Incident, list[PastIncident]]:
        """``incident`` with its diagnosis, and the history records that changed."""
        metrics = frozenset(incident.metrics)
        incident_id = incident.incident_id
        known = self._last.get(incident_id)
        records: list[PastIncident] = []
        if known is not None and known[0] >= metrics and incident_id not in self.retry_due():
            diagnosis = known[1]
        else:
            diagnosis, records = self._diagnose(incident)
            self._last[incident_id] = (metrics, diagnosis)
            self._retry_at.pop(incident_id, None)
            if diagnosis.evidence == [NO_SERIES]:
                self._retry_at[incident_id] = time.monotonic() + self.retry_s
        if incident.status == "resolved":
            self._last.pop(incident_id, None)
            self._retry_at.pop(incident_id, None)
        return incident.model_copy(update={"diagnosis": diagnosis}), records

    def retry_due(self) -> set[str]:
        """Ids of incidents whose diagnosis had no series and may be tried again now."""
        now = time.monotonic()
        return {incident_id for incident_id, at in self._retry_at.items() if at <= now}

    def label(self, incident_id: str, kind: str, by: str) -> list[PastIncident]:
        """An operator's kind for the incident, learned by history and classifier."""
        try:
            return [self.memory.label_one(incident_id, kind, by)]
        except KeyError:
            log.warning("label for %s, which was not diagnosed here", incident_id)
            return []

    def outcome(self, incident_id: str, action: str, worked: bool) -> list[PastIncident]:
        """A verified action outcome, for "what fixed it and how often"."""
        try:
            self.memory.record_outcome(incident_id, action, worked)
        except KeyError:
            return []
        return [r for r in self.memory.to_records() if r.incident_id == incident_id]

    def evidence_of(self, incident: Incident) -> Evidence:
        """The incident's nodes' series around it, its linked changes and its text."""
        nodes = (list(incident.affected_nodes) or [incident.node_id or ""])[:MAX_NODES]
        labels = incident.labels | incident.group
        stop_at = max(incident.updated_at, incident.opened_at) + timedelta(minutes=1)
        frames = self._frames(nodes, incident.opened_at - self.baseline, stop_at)
        window_s = (incident.opened_at.timestamp(), stop_at.timestamp())
        linked = self.changes.linked_many(nodes, labels, incident.opened_at, stop_at)
        return Evidence(
            incident.incident_id,
            tuple(
                node_evidence(f.node_id, labels, f.times_s, f.series, window_s)
                for f in frames.values()
                if f.times_s.size
            ),
            tuple(_change_record(c) for c in linked),
            text=f"{incident.title} {' '.join(incident.metrics)}",
            labels=labels,
        )

    def _diagnose(self, incident: Incident) -> tuple[Diagnosis, list[PastIncident]]:
        evidence = self.evidence_of(incident)
        if not evidence.nodes:
            return Diagnosis(kind=UNKNOWN, confidence=0.0, evidence=[NO_SERIES]), []
        diagnosis = self.memory.diagnoser.diagnose_one(evidence)
        return diagnosis, [self.memory.remember_one(evidence, diagnosis)]

    def _frames(
        self, nodes: Sequence[str], start_at: datetime, stop_at: datetime
    ) -> dict[str, NodeFrame]:
        if self.frames is None:
            return {}
        try:
            return self.frames(nodes, start_at, stop_at)
        except QueryError as exc:
            log.warning("no series to diagnose from: %s", exc)
            return {}


def _change_record(change: ChangeEvent) -> ChangeRecord:
    return ChangeRecord(
        change.change_id,
        change.kind,
        change.changed_at,
        change.role,
        tuple(change.nodes),
        change.summary,
    )
