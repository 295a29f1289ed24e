"""Incident messages: incidents, past incidents for retrieval and the persisted incident memory."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from pipeline.models.diagnosis import (
    Diagnosis,
    DiagnosisHints,
    KindName,
    MetricDeviation,
    ProcessName,
    UnitName,
)
from pipeline.models.operators import FaultKind
from pipeline.models.wire import (
    MAX_METRICS_PER_BATCH,
    Identifier,
    Labels,
    MetricName,
    NodeId,
    Severity,
    ShortText,
    UtcDatetime,
    WireModel,
    utc_now,
)


class ActionOutcome(WireModel):
    """An action tried on a past incident; ``worked`` is None until verification said."""

    action: Identifier
    worked: bool | None = None


class PastIncident(WireModel):
    """A confirmed incident as the diagnosis remembers it; key on the history topic is its id.

    ``signature`` is the culprit node's deviation per metric (signed log1p of z), ``kind`` any name
    an operator confirmed, ``actions`` what was tried and whether it worked.
    """

    incident_id: Identifier
    kind: KindName
    culprit_node: NodeId | None = None
    culprit: ProcessName | None = None
    culprit_unit: UnitName | None = None
    signature: Annotated[dict[MetricName, float], Field(max_length=MAX_METRICS_PER_BATCH)] = Field(
        default_factory=dict
    )
    text: Annotated[str, StringConstraints(max_length=4096)] = ""
    actions: Annotated[list[ActionOutcome], Field(max_length=32)] = Field(default_factory=list)
    confirmed_by: Identifier | None = Field(
        default=None, description="operator who labelled it; None while awaiting a label"
    )
    recorded_at: UtcDatetime = Field(default_factory=utc_now)


class Incident(WireModel):
    """Anomalies grouped into one host or one fleet incident; key on the topic is ``incident_id``.

    A host incident is every deviation of one node within one time span; a fleet incident is the
    same deviation on many nodes sharing a label (``group``) with its blast radius
    (``affected_count`` of ``population``). The same ``incident_id`` is published again on every
    change, so the latest message is the incident's current state.
    """

    incident_id: Identifier
    dedup_key: Annotated[str, StringConstraints(max_length=512)]
    kind: Literal["host", "fleet"]
    status: Literal["open", "updated", "resolved"]
    severity: Severity
    title: ShortText
    node_id: NodeId | None = None
    group: Labels = Field(default_factory=dict)
    labels: Labels = Field(default_factory=dict)
    metrics: Annotated[list[MetricName], Field(max_length=64)] = Field(default_factory=list)
    directions: Annotated[dict[MetricName, Literal["up", "down"]], Field(max_length=64)] = Field(
        default_factory=dict, description="per metric, whether it went up or down"
    )
    affected_nodes: Annotated[list[NodeId], Field(max_length=64)] = Field(default_factory=list)
    affected_count: int = Field(ge=1)
    population: int | None = Field(default=None, ge=1)
    share: float | None = Field(default=None, ge=0.0, le=1.0)
    event_count: int = Field(ge=1)
    opened_at: UtcDatetime
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    flapping: bool = False
    reopen_count: int = Field(default=0, ge=0)
    silenced: bool = False
    owner: Identifier | None = None
    acknowledged_by: Identifier | None = None
    hints: DiagnosisHints = Field(default_factory=DiagnosisHints)
    diagnosis: Diagnosis | None = None


class ActionRecord(WireModel):
    """One remediation step of an incident: proposed, issued or blocked, and how it ended."""

    request_id: Identifier
    node_id: NodeId
    action: Identifier
    step: Literal["issued", "blocked"]
    outcome: (
        Literal["dry_run", "succeeded", "failed", "no_effect", "refused", "awaiting_approval"]
        | None
    ) = None
    at: UtcDatetime


class RememberedIncident(WireModel):
    """Everything the incident stage must not forget about one incident; key is ``incident_id``.

    The latest record per incident on the compacted memory topic is replayed when the stage
    starts, so ids, acknowledgements, open incidents, actions and verified outcomes survive a
    restart; ``label`` is the kind an operator confirmed, ``false_positive`` their dismissal.
    """

    incident: Incident
    directions: Annotated[dict[MetricName, Literal["up", "down"]], Field(max_length=64)] = Field(
        default_factory=dict
    )
    deviations: Annotated[list[MetricDeviation], Field(max_length=64)] = Field(default_factory=list)
    actions: Annotated[list[ActionRecord], Field(max_length=64)] = Field(default_factory=list)
    label: FaultKind | None = None
    false_positive: bool = False
    recorded_at: UtcDatetime
