"""Operator feedback: diagnosed incidents wait for a label; labels and outcomes teach the diagnosis.

``fleetwatch incidents label ID KIND`` and ``incidents false-positive ID`` end here: the pending
record of that incident (kept when it was diagnosed, with its signature, since the series around
it are gone by then) becomes a confirmed past incident of the operator's kind, which the history
retrieves and the classifier learns. A false positive is the kind ``false_positive``: the next
incident that looks the same is diagnosed as one, and the stage can keep it from paging.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from pipeline.incidents.diagnosis.diagnoser import Diagnoser, record_of
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.history import History
from pipeline.models import ActionOutcome, Diagnosis, PastIncident

FALSE_POSITIVE = "false_positive"
# Incidents diagnosed but not yet labelled: the oldest are forgotten first.
MAX_PENDING = 10_000


class IncidentMemory:
    """A diagnoser plus the diagnosed incidents awaiting an operator's label.

    Parameters
    ----------
    diagnoser
        Holds the confirmed history and the classifier.
    max_pending
        Most unlabelled incidents kept.
    """

    def __init__(self, diagnoser: Diagnoser | None = None, max_pending: int = MAX_PENDING) -> None:
        self.diagnoser = diagnoser or Diagnoser()
        self.max_pending = max_pending
        self.pending: OrderedDict[str, PastIncident] = OrderedDict()

    def remember_one(self, evidence: Evidence, diagnosis: Diagnosis) -> PastIncident:
        """Keep ``evidence`` as diagnosed, until an operator labels it."""
        found = diagnosis.culprit
        record = record_of(
            evidence, diagnosis.kind, found.node_id, found.process, culprit_unit=found.unit
        )
        self.pending[record.incident_id] = record
        self.pending.move_to_end(record.incident_id)
        while len(self.pending) > self.max_pending:
            self.pending.popitem(last=False)
        return record

    def label_one(self, incident_id: str, kind: str, by: str) -> PastIncident:
        """Confirm ``incident_id`` as ``kind`` (any name); the history and classifier learn it.

        Raises
        ------
        KeyError
            When the incident was never diagnosed here (or was forgotten).
        """
        known = self.pending.get(incident_id) or self._confirmed(incident_id)
        # Validated again: the kind and the operator come from a command line.
        record = PastIncident.model_validate(
            known.model_dump() | {"kind": kind, "confirmed_by": by}
        )
        self.pending.pop(incident_id, None)
        self.diagnoser.learn_one(record)
        return record

    def false_positive_one(self, incident_id: str, by: str) -> PastIncident:
        """Label ``incident_id`` a false positive (see the module docstring)."""
        return self.label_one(incident_id, FALSE_POSITIVE, by)

    def record_outcome(self, incident_id: str, action: str, worked: bool | None) -> None:
        """Add a verified (or not) action outcome to the incident's record, pending or confirmed."""
        if incident_id in self.pending:
            record = self.pending[incident_id]
            self.pending[incident_id] = _with_outcome(record, action, worked)
            return
        record = self._confirmed(incident_id)
        self.diagnoser.history.add_one(_with_outcome(record, action, worked))

    def to_records(self) -> list[PastIncident]:
        """Confirmed then pending records: what the compacted history topic keeps."""
        return [*self.diagnoser.history.to_records(), *self.pending.values()]

    @classmethod
    def from_records(cls, records: Iterable[PastIncident]) -> IncidentMemory:
        """Rebuild from ``to_records()``: confirmed ones (``confirmed_by`` set) are learned."""
        items = list(records)
        confirmed = History(r for r in items if r.confirmed_by)
        memory = cls(Diagnoser.from_history(confirmed))
        memory.pending.update((r.incident_id, r) for r in items if not r.confirmed_by)
        return memory

    def _confirmed(self, incident_id: str) -> PastIncident:
        found = {r.incident_id: r for r in self.diagnoser.history.to_records()}.get(incident_id)
        if found is None:
            raise KeyError(f"incident {incident_id!r} was not diagnosed here, or was forgotten")
        return found


def _with_outcome(record: PastIncident, action: str, worked: bool | None) -> PastIncident:
    actions = [*record.actions, ActionOutcome(action=action, worked=worked)][-32:]
    return PastIncident.model_validate(record.model_dump() | {"actions": actions})
