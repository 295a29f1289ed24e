"""Remediation messages: signed requests to a node, its results and its audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from pipeline.models.wire import (
    Identifier,
    MetricName,
    NodeId,
    ParamValue,
    ShortText,
    UtcDatetime,
    WireModel,
)


class RemediationRequest(WireModel):
    """An action asked of one node's agent; key on the topic is ``node_id``.

    ``request_id`` is derived from the incident and the action, so a replayed request has the same
    id and is executed at most once. ``signature`` is the issuer key ``key_id``'s Ed25519 signature.
    """

    request_id: Identifier
    node_id: NodeId
    incident_id: Identifier
    action: Identifier
    params: Annotated[dict[Identifier, ParamValue], Field(max_length=16)] = Field(
        default_factory=dict
    )
    reason: ShortText
    issued_at: UtcDatetime
    expires_at: UtcDatetime
    nonce: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$")]
    requires_approval: bool = False
    verify_metric: MetricName | None = Field(
        default=None, description="metric the node re-reads after acting to confirm recovery"
    )
    recover_below: float | None = Field(
        default=None, description="verify_metric must fall below this for success"
    )
    blast_nodes: int | None = Field(
        default=None,
        ge=1,
        description="distinct nodes the issuer has admitted in its blast window, this one included;"
        " signed, so the node checks its own limit without reading other nodes' requests",
    )
    key_id: Identifier | None = None
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")] | None = None


class RemediationResult(WireModel):
    """What a node's agent did with a request, after verifying the effect."""

    request_id: Identifier
    node_id: NodeId
    action: Identifier
    outcome: Literal["dry_run", "succeeded", "failed", "no_effect", "refused", "awaiting_approval"]
    detail: ShortText = ""
    started_at: UtcDatetime
    finished_at: UtcDatetime


AuditStepName = Literal[
    "issued",
    "blocked",
    "received",
    "refused",
    "awaiting_approval",
    "approved",
    "dry_run",
    "executed",
    "failed",
    "verified",
    "no_effect",
    "rolled_back",
]


class AuditStep(WireModel):
    """One step of one remediation request, as a node reports it; key on the topic is ``node_id``.

    Nodes publish their audit trail to Kafka; the incident stage writes it to InfluxDB, so no node
    holds database credentials. ``at_ms`` is strictly increasing per node (two steps in one
    millisecond both survive).
    """

    node_id: NodeId
    step: AuditStepName
    action: Identifier
    request_id: Identifier
    incident_id: Annotated[str, StringConstraints(max_length=128)] = ""
    detail: Annotated[str, StringConstraints(max_length=1000)] = ""
    at_ms: int = Field(ge=0)
