"""Wire messages: every payload on a fleetwatch topic is one of these pydantic models.

``schemas/*.json`` is generated from them (``fleetwatch schemas export``), never edited by hand.
Every model is strict: unknown fields are rejected, floats must be finite, datetimes must carry a
time zone and are normalised to UTC, and every collection has an upper bound so one hostile
message cannot exhaust a worker.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from pipeline.errors import InvalidMessage

SCHEMA_VERSION: Final = 1
MAX_METRICS_PER_BATCH = 2048
MAX_LABELS = 32
MAX_MESSAGE_BYTES = 1_048_576
# The smallest message limit of the producers we run: Faust's producer_max_request_size default
# (kafka-python's max_request_size and the broker's message.max.bytes default to ~1 MiB).
KAFKA_MESSAGE_LIMIT_BYTES = 1_000_000
# What a dead letter keeps of the message it stands for. Its JSON carries ``raw`` as base64 (4
# bytes per 3) beside at most ~4 KiB of other fields (a 512-character reason escaped as \uXXXX
# is 3 KiB), and the whole letter must fit KAFKA_MESSAGE_LIMIT_BYTES; the offending message
# stays whole in its own topic for the retention time.
DEAD_LETTER_RAW_BYTES = (KAFKA_MESSAGE_LIMIT_BYTES - 8 * 1024) // 4 * 3

# `<subsystem>.<field>`, optionally with an instance between them (`disk.root.used_percent`,
# `net.eth0.rx_bytes_per_s`). The alphabet excludes every InfluxDB line-protocol special character.
METRIC_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}(\.[a-z0-9_][a-z0-9_-]{0,63}){1,3}$"
NODE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
LABEL_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# Printable text only: label values become InfluxDB tags. Control characters could split a line;
# a backslash before the separator would escape it (found by tests/unit/store fuzzing).
LABEL_VALUE_PATTERN = r"^[^\x00-\x1f\x7f\\]{0,128}$"

MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN)]
NodeId = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY_PATTERN)]
LabelValue = Annotated[str, StringConstraints(pattern=LABEL_VALUE_PATTERN)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]
ShortText = Annotated[str, StringConstraints(max_length=512)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
Severity = Literal["info", "warning", "critical"]
# Why a window was flagged: the score passed its threshold, the level drifted (Page-Hinkley),
# a bounded series is forecast to run out within the horizon, or it sits at its bound.
Reason = Literal["score", "drift", "forecast", "saturated"]
ParamValue = str | int | float | bool


def utc_now() -> datetime:
    """Return the current time as a tz-aware UTC datetime."""
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of every message: strict, immutable, versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=4096)

    schema_version: Literal[1] = SCHEMA_VERSION


class MetricBatch(WireModel):
    """All metrics of one node from one sampling round; key on the topic is ``node_id``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> batch = MetricBatch(
    ...     node_id="web-01",
    ...     sampled_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...     labels={"role": "web"},
    ...     metrics={"cpu.usage_user": 12.5, "mem.used_percent": 40.0},
    ... )
    >>> decode(MetricBatch, encode(batch)) == batch
    True
    """

    node_id: NodeId
    sampled_at: UtcDatetime
    labels: Labels = Field(default_factory=dict)
    metrics: Annotated[dict[MetricName, float], Field(max_length=MAX_METRICS_PER_BATCH)]
    batch_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    seq: int = Field(default=0, ge=0, description="per-agent sequence number, for ordering")


class PeerSummary(WireModel):
    """One node's mean metrics over one round, re-keyed by its cohort for the peer stage."""

    node_id: NodeId
    cohort: ShortText = Field(description="label=value the node is compared within")
    round_at: UtcDatetime
    metrics: Annotated[dict[MetricName, float], Field(max_length=MAX_METRICS_PER_BATCH)]


class Contributor(WireModel):
    """One metric's share in an anomaly: how far it was from what the model expected."""

    metric: MetricName
    score: float = Field(ge=0.0, le=1.0)
    observed: float
    expected: float


class AnomalyEvent(WireModel):
    """A flagged window of one series (``scope="series"``) or one whole host (``scope="host"``)."""

    event_id: Identifier
    node_id: NodeId
    labels: Labels = Field(default_factory=dict)
    scope: Literal["series", "host"]
    metric: MetricName | None = None
    kind: Literal["detector", "peer", "fleet"] = Field(
        "detector",
        description="who found it: the node's own detector, its cohort (a node apart from its "
        "peers) or the fleet stage (a whole cohort shifted; node_id names the cohort)",
    )
    cohort: ShortText | None = Field(None, description="the cohort compared, as label=value")
    window_start_at: UtcDatetime
    window_end_at: UtcDatetime
    score: float = Field(ge=0.0, le=1.0, description="peak anomaly score in the window")
    threshold: float = Field(ge=0.0, le=1.0)
    observed: float | None = None
    expected: float | None = None
    expected_low: float | None = None
    expected_high: float | None = None
    detector: Identifier
    severity: Severity
    contributors: Annotated[list[Contributor], Field(max_length=10)] = Field(default_factory=list)
    detected_at: UtcDatetime = Field(default_factory=utc_now)
    reason: Reason = Field("score", description="why the window was flagged")
    exhaustion_eta_s: float | None = Field(
        None, ge=0.0, description="bounded series: seconds until it runs out, at the current trend"
    )
    eta_low_s: float | None = Field(
        None, ge=0.0, description="early end of the time-to-exhaustion interval"
    )
    eta_high_s: float | None = Field(
        None, ge=0.0, description="late end of the interval (absent: the trend may not reach it)"
    )

    @model_validator(mode="after")
    def _check_shape(self) -> AnomalyEvent:
        if self.window_end_at <= self.window_start_at:
            raise ValueError("window_end_at must be after window_start_at")
        if (self.scope == "series") != (self.metric is not None):
            raise ValueError("a series event names its metric; a host event does not")
        return self


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


class MetricDeviation(WireModel):
    """One metric of an incident: what was seen against what the model expected."""

    metric: MetricName
    observed: float | None = None
    expected: float | None = None
    score: float = Field(ge=0.0, le=1.0)
    first_at: UtcDatetime


class SimilarIncident(WireModel):
    """A past incident with a similar metric signature and how it ended."""

    incident_id: Identifier
    similarity: float = Field(ge=0.0, le=1.0)
    action: Identifier | None = None
    outcome: Identifier | None = None


class DiagnosisHints(WireModel):
    """Why an incident looks the way it does: first deviation, top metrics, peers, history."""

    first_metric: MetricName | None = None
    first_at: UtcDatetime | None = None
    top: Annotated[list[MetricDeviation], Field(max_length=5)] = Field(default_factory=list)
    peers: Annotated[list[NodeId], Field(max_length=10)] = Field(default_factory=list)
    similar: Annotated[list[SimilarIncident], Field(max_length=3)] = Field(default_factory=list)


KindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ProcessName = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,128}$")]


class DiagnosisCulprit(WireModel):
    """Who caused it: the node, what on it, and the change, when known.

    ``process`` names the process or systemd unit (``proc.<comm>``/``unit.<unit>`` instance), or
    for faults without one the mount point or network interface the fault sits on.
    """

    node_id: NodeId | None = None
    process: ProcessName | None = None
    change_id: Identifier | None = None


class KindVote(WireModel):
    """One fault kind and how sure a source (or the vote) is of it."""

    kind: KindName
    confidence: float = Field(ge=0.0, le=1.0)
    source: Literal["analyzers", "history", "classifier", "vote"] = "vote"


class DeviationNote(WireModel):
    """One metric's move on the culprit node: mean before the window, mean in it, and z."""

    metric: MetricName
    before: float
    during: float
    z: float


class FixTally(WireModel):
    """An action tried on similar past incidents: times verified, times it worked."""

    action: Identifier
    worked: int = Field(ge=0)
    tried: int = Field(ge=0)


class Diagnosis(WireModel):
    """What is wrong, who caused it, how sure, why, and what else it could be.

    ``kind`` is ``unknown`` when the vote is below the confidence threshold: a human is paged.
    """

    kind: KindName
    confidence: float = Field(ge=0.0, le=1.0)
    culprit: DiagnosisCulprit = Field(default_factory=DiagnosisCulprit)
    ranked_nodes: Annotated[list[NodeId], Field(max_length=10)] = Field(default_factory=list)
    evidence: Annotated[list[ShortText], Field(max_length=10)] = Field(default_factory=list)
    deviations: Annotated[list[DeviationNote], Field(max_length=10)] = Field(default_factory=list)
    alternatives: Annotated[list[KindVote], Field(max_length=5)] = Field(default_factory=list)
    sources: Annotated[list[KindVote], Field(max_length=3)] = Field(default_factory=list)
    similar: Annotated[list[SimilarIncident], Field(max_length=5)] = Field(default_factory=list)
    fixes: Annotated[list[FixTally], Field(max_length=5)] = Field(default_factory=list)


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


class DeadLetter(WireModel):
    """A message that could not be processed, kept whole (``raw``) with the reason."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    reason: ShortText
    error_type: Identifier
    topic: Annotated[str, StringConstraints(max_length=249)]
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    raw: Annotated[bytes, Field(max_length=DEAD_LETTER_RAW_BYTES)]
    received_at: UtcDatetime = Field(default_factory=utc_now)


WIRE_MODELS: tuple[type[WireModel], ...] = (
    MetricBatch,
    AnomalyEvent,
    RemediationRequest,
    RemediationResult,
    AuditStep,
    Incident,
    OperatorCommand,
    ChangeEvent,
    PastIncident,
    DeadLetter,
    RememberedIncident,
    PeerSummary,
)

M = TypeVar("M", bound=WireModel)


def encode(message: WireModel) -> bytes:
    """Serialise a message to the JSON bytes put on a topic."""
    return message.model_dump_json().encode()


def decode(model: type[M], raw: bytes) -> M:
    """Parse and validate topic bytes as ``model``.

    Raises
    ------
    InvalidMessage
        When the bytes are too large, not JSON, or fail validation; ``reason`` says which field.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}", raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidMessage(_describe(exc, model), raw) from exc


def _describe(exc: ValidationError, model: type[WireModel]) -> str:
    """One line naming the first few failing fields, for dead letters and logs."""
    problems = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)[:3]
    ]
    more = exc.error_count() - len(problems)
    suffix = f" (+{more} more)" if more > 0 else ""
    return f"invalid {model.__name__}: " + "; ".join(problems) + suffix
