"""Operator and change messages: signed operator commands and recorded changes."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from pipeline.models.wire import (
    Identifier,
    LabelValue,
    NodeId,
    ShortText,
    UtcDatetime,
    WireModel,
    utc_now,
)

FaultKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class OperatorCommand(WireModel):
    """A signed operator decision: a silence, an ack, an approval, or feedback on an incident.

    ``label`` confirms the incident's fault kind (``fault_kind``); ``false_positive`` dismisses it.

    Key on the topic is ``command_id``; ``signature`` is the Ed25519 signature of the operator
    key ``key_id``, whose identity must be ``issued_by``.
    """

    command_id: Identifier
    kind: Literal["silence", "ack", "approve", "label", "false_positive"]
    issued_by: Identifier
    issued_at: UtcDatetime
    node_id: NodeId | None = None
    label: (
        Annotated[
            str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}=[^\x00-\x1f\x7f=]{1,128}$")
        ]
        | None
    ) = None
    until_at: UtcDatetime | None = None
    incident_id: Identifier | None = None
    request_id: Identifier | None = None
    owner: Identifier | None = None
    fault_kind: FaultKind | None = Field(
        default=None, description="the kind an operator confirms for an incident (label)"
    )
    reason: ShortText = ""
    nonce: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$")]
    key_id: Identifier | None = None
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")] | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> OperatorCommand:
        if self.kind == "silence" and (
            self.until_at is None or (self.node_id is None) == (self.label is None)
        ):
            raise ValueError("a silence names exactly one of node_id or label, and until_at")
        if self.kind == "ack" and self.incident_id is None:
            raise ValueError("an ack names its incident_id")
        if self.kind == "approve" and self.request_id is None:
            raise ValueError("an approval names its request_id")
        if self.kind in ("label", "false_positive") and self.incident_id is None:
            raise ValueError(f"a {self.kind} command names its incident_id")
        if self.kind == "label" and self.fault_kind is None:
            raise ValueError("a label names its fault_kind")
        return self


ChangeKind = Literal["deploy", "config", "package", "kernel", "restart"]
MAX_CHANGE_NODES = 64  # a change on more nodes names their role instead


class ChangeEvent(WireModel):
    """A change to part of the fleet; key on the topic is ``change_id``.

    ``kind`` is ``deploy`` / ``config`` (recorded by CI/CD hooks with ``fleetwatch change
    record``), ``package`` / ``kernel`` (seen by a node's agent) or ``restart`` (a systemd unit
    the agent saw restart: a change on its own, and not necessarily a deploy). It names the
    ``role`` it hit, the ``nodes``, or both (a rollout to some nodes of a role).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from pipeline.models import decode, encode
    >>> change = ChangeEvent(
    ...     kind="deploy", role="web", version="1.2.3", who="ci",
    ...     changed_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ... )
    >>> decode(ChangeEvent, encode(change)) == change
    True
    """

    change_id: Identifier = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: ChangeKind
    role: LabelValue | None = None
    nodes: Annotated[list[NodeId], Field(max_length=MAX_CHANGE_NODES)] = Field(default_factory=list)
    version: Annotated[str, StringConstraints(max_length=128)] | None = None
    who: Identifier
    summary: ShortText = ""
    changed_at: UtcDatetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _check_target(self) -> ChangeEvent:
        if self.role is None and not self.nodes:
            raise ValueError("a change names its role, its nodes, or both")
        return self
