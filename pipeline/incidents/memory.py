"""Incident memory: one record per incident that outlives the stage, and action ratings.

The stage keeps the latest :class:`RememberedIncident` of every incident it published and emits a
new one on each change (the incident, a request issued or blocked, a verified outcome, an operator's
label or dismissal); the worker writes them to the compacted memory topic and replays them at
start. Verified outcomes rate each action per fault kind: how often it was tried, how often it
worked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.models import (
    ActionRecord,
    Incident,
    MetricDeviation,
    RemediationRequest,
    RemediationResult,
    RememberedIncident,
)

MAX_ACTIONS = 64
VERIFIED = ("succeeded", "failed", "no_effect")
UNKNOWN_KIND = "unknown"


@dataclass(frozen=True)
class ActionRating:
    """How an action fared on incidents of one kind: times verified and times it worked."""

    kind: str
    action: str
    worked: int
    tried: int


def kind_of(memory: RememberedIncident) -> str:
    """The incident's fault kind: the operator's label, else its diagnosis, else ``unknown``."""
    if memory.label is not None:
        return memory.label
    diagnosis = getattr(memory.incident, "diagnosis", None)
    return str(diagnosis.kind) if diagnosis is not None else UNKNOWN_KIND


class IncidentBook:
    """The latest memory record of each incident, and which incident each request belongs to."""

    def __init__(self) -> None:
        self.records: dict[str, RememberedIncident] = {}
        self.incident_of: dict[str, str] = {}  # request_id → incident_id

    def restore_many(self, records: Iterable[RememberedIncident]) -> None:
        """Take back records replayed from the memory topic (a later one of an id wins)."""
        for record in records:
            self.records[record.incident.incident_id] = record
            for action in record.actions:
                self.incident_of[action.request_id] = record.incident.incident_id

    def note_incident(
        self,
        incident: Incident,
        deviations: Iterable[MetricDeviation],
        directions: dict[str, str],
        now: datetime,
    ) -> RememberedIncident:
        """Remember the incident's latest published state (keeping its actions and feedback)."""
        items = sorted(deviations, key=lambda d: -d.score)[:64]
        update = {
            "incident": incident,
            "deviations": items,
            "directions": {d.metric: directions.get(d.metric, "up") for d in items},
            "recorded_at": now,
        }
        previous = self.records.get(incident.incident_id)
        record = (
            previous.model_copy(update=update)
            if previous is not None
            else RememberedIncident.model_validate(update)
        )
        self.records[incident.incident_id] = record
        return record

    def note_request(
        self, request: RemediationRequest | ActionRecord, incident_id: str, now: datetime
    ) -> RememberedIncident | None:
        """Remember a request issued (or, as an ActionRecord, blocked) for an incident."""
        action = (
            request
            if isinstance(request, ActionRecord)
            else ActionRecord(
                request_id=request.request_id,
                node_id=request.node_id,
                action=request.action,
                step="issued",
                at=now,
            )
        )
        self.incident_of[action.request_id] = incident_id
        return self._with_action(incident_id, action, now)

    def note_result(self, result: RemediationResult) -> RememberedIncident | None:
        """Remember how a request ended (a dry run is a proposal; others are verified)."""
        incident_id = self.incident_of.get(result.request_id)
        record = self.records.get(incident_id) if incident_id else None
        if record is None:
            return None
        known = next((a for a in record.actions if a.request_id == result.request_id), None)
        base = known or ActionRecord(
            request_id=result.request_id,
            node_id=result.node_id,
            action=result.action,
            step="issued",
            at=result.started_at,
        )
        action = base.model_copy(update={"outcome": result.outcome})
        return self._with_action(record.incident.incident_id, action, result.finished_at)

    def note_feedback(
        self, incident_id: str, now: datetime, label: str | None = None, dismissed: bool = False
    ) -> RememberedIncident | None:
        """Remember an operator's label (a confirmed kind) or dismissal of an incident."""
        record = self.records.get(incident_id)
        if record is None:
            return None
        update: dict[str, object] = {"recorded_at": now}
        if label is not None:
            update["label"] = label
        if dismissed:
            update["false_positive"] = True
        record = record.model_copy(update=update)
        self.records[incident_id] = record
        return record

    def ratings(self) -> list[ActionRating]:
        """Per (kind, action): verified tries and successes over every remembered incident."""
        tally: dict[tuple[str, str], tuple[int, int]] = {}
        for record in self.records.values():
            kind = kind_of(record)
            for action in record.actions:
                if action.outcome in VERIFIED:
                    worked, tried = tally.get((kind, action.action), (0, 0))
                    success = action.outcome == "succeeded"
                    tally[(kind, action.action)] = (worked + success, tried + 1)
        return [ActionRating(k, a, w, t) for (k, a), (w, t) in sorted(tally.items())]

    def _with_action(
        self, incident_id: str, action: ActionRecord, now: datetime
    ) -> RememberedIncident | None:
        record = self.records.get(incident_id)
        if record is None:
            return None
        others = [a for a in record.actions if a.request_id != action.request_id]
        actions = [*others, action][-MAX_ACTIONS:]
        record = record.model_copy(update={"actions": actions, "recorded_at": now})
        self.records[incident_id] = record
        return record
