"""Right action: the runbook's action for a diagnosis against its action for the case's truth.

A diagnosis is acted on through the runbook, so its action is right when the runbook does with
it exactly what it would do with the true kind and culprit: the same action type with the same
parameters (the unit ``restart_unit`` restarts, the process ``stop_process`` stops, the change
rolled back) on the same node, or pages a human where the truth would too. Each case is read as a
host incident on the node its diagnosis blames, with that node's labels. Only cases whose truth
names the culprit process, unit or change are scored: without them the truth's own action cannot
be filled in (DBSherlock's cases, the synthetic fixtures).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.scoring import Truth
from pipeline.incidents.runbooks import Runbook
from pipeline.models import Diagnosis, DiagnosisCulprit, Incident

Action = tuple[str, str, dict[str, Any]]  # (action type, node, filled parameters)
NOTHING: Action = ("none", "", {})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def action_right_share(
    runbook: Runbook,
    predictions: Mapping[str, Diagnosis],
    truth: Mapping[str, Truth],
    cases: Mapping[str, Evidence],
) -> float:
    """Share of predicted cases (whose truth names a culprit) acted on as their truth would be."""
    ids = [c for c in sorted(predictions) if truth[c].process or truth[c].unit or truth[c].change]
    right = sum(
        action_of(runbook, predictions[c], cases[c])
        == action_of(runbook, truth_diagnosis(truth[c]), cases[c])
        for c in ids
    )
    return round(right / len(ids), 4) if ids else 0.0


def truth_diagnosis(truth: Truth) -> Diagnosis:
    """The diagnosis a perfect diagnoser would give: true kind, node, process, unit, change."""
    unit = f"{truth.unit}.service" if truth.unit else None
    culprit = DiagnosisCulprit(
        node_id=truth.culprit, process=truth.process, unit=unit, change_id=truth.change
    )
    return Diagnosis(kind=truth.kind, confidence=1.0, culprit=culprit)


def action_of(runbook: Runbook, diagnosis: Diagnosis, evidence: Evidence) -> Action:
    """What the runbook's first matching rule does with ``diagnosis`` (``NOTHING`` if none)."""
    node_id = diagnosis.culprit.node_id or next(iter(diagnosis.ranked_nodes), None)
    incident = _incident(diagnosis, node_id, _labels(evidence, node_id))
    rule = runbook.match_one(incident)
    if rule is None:
        return NOTHING
    params = rule.params_for(incident).model_dump(exclude_none=True)
    return rule.action.type, node_id or "", params


def _labels(evidence: Evidence, node_id: str | None) -> dict[str, str]:
    node = next((n for n in evidence.nodes if n.node_id == node_id), None)
    return dict(node.labels) if node is not None else dict(evidence.labels)


def _incident(diagnosis: Diagnosis, node_id: str | None, labels: dict[str, str]) -> Incident:
    return Incident(
        incident_id="case",
        dedup_key="case",
        kind="host",
        status="open",
        severity="critical",
        title="case",
        node_id=node_id,
        labels=labels,
        affected_count=1,
        event_count=1,
        opened_at=EPOCH,
        updated_at=EPOCH,
        diagnosis=diagnosis,
    )
