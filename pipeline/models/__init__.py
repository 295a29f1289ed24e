"""Wire messages: every payload on a fleetwatch topic is one of these pydantic models.

The models live in one module per stage's messages (``metrics``, ``anomalies``, ``remediation``,
``diagnosis``, ``operators``, ``incidents``, ``dead_letters``) over a shared base (``wire``:
``WireModel``, field types, limits, ``encode``/``decode``). This package re-exports them so
callers import every message from ``pipeline.models``.
"""

from __future__ import annotations

from pipeline.models.anomalies import (
    AnomalyEvent,
    Contributor,
)
from pipeline.models.dead_letters import (
    DeadLetter,
)
from pipeline.models.diagnosis import (
    DeviationNote,
    Diagnosis,
    DiagnosisCulprit,
    DiagnosisHints,
    FixTally,
    KindName,
    KindVote,
    MetricDeviation,
    ProcessName,
    SimilarIncident,
)
from pipeline.models.incidents import (
    ActionOutcome,
    ActionRecord,
    Incident,
    PastIncident,
    RememberedIncident,
)
from pipeline.models.metrics import (
    CULPRIT_PREFIXES,
    MetricBatch,
    PeerSummary,
)
from pipeline.models.operators import (
    MAX_CHANGE_NODES,
    ChangeEvent,
    ChangeKind,
    FaultKind,
    OperatorCommand,
)
from pipeline.models.remediation import (
    AuditStep,
    AuditStepName,
    RemediationRequest,
    RemediationResult,
)
from pipeline.models.wire import (
    DEAD_LETTER_RAW_BYTES,
    KAFKA_MESSAGE_LIMIT_BYTES,
    LABEL_KEY_PATTERN,
    LABEL_VALUE_PATTERN,
    MAX_LABELS,
    MAX_MESSAGE_BYTES,
    MAX_METRICS_PER_BATCH,
    METRIC_NAME_PATTERN,
    NODE_ID_PATTERN,
    SCHEMA_VERSION,
    Identifier,
    LabelKey,
    Labels,
    LabelValue,
    M,
    MetricName,
    NodeId,
    ParamValue,
    Reason,
    Severity,
    ShortText,
    UtcDatetime,
    WireModel,
    decode,
    encode,
    utc_now,
)

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

__all__ = [
    "CULPRIT_PREFIXES",
    "ActionOutcome",
    "ActionRecord",
    "AnomalyEvent",
    "AuditStep",
    "AuditStepName",
    "ChangeEvent",
    "ChangeKind",
    "Contributor",
    "DEAD_LETTER_RAW_BYTES",
    "DeadLetter",
    "DeviationNote",
    "Diagnosis",
    "DiagnosisCulprit",
    "DiagnosisHints",
    "FaultKind",
    "FixTally",
    "Identifier",
    "Incident",
    "KAFKA_MESSAGE_LIMIT_BYTES",
    "KindName",
    "KindVote",
    "LABEL_KEY_PATTERN",
    "LABEL_VALUE_PATTERN",
    "LabelKey",
    "LabelValue",
    "M",
    "Labels",
    "MAX_CHANGE_NODES",
    "MAX_LABELS",
    "MAX_MESSAGE_BYTES",
    "MAX_METRICS_PER_BATCH",
    "METRIC_NAME_PATTERN",
    "MetricBatch",
    "MetricDeviation",
    "MetricName",
    "NODE_ID_PATTERN",
    "NodeId",
    "OperatorCommand",
    "ParamValue",
    "PastIncident",
    "PeerSummary",
    "ProcessName",
    "Reason",
    "RemediationRequest",
    "RemediationResult",
    "RememberedIncident",
    "SCHEMA_VERSION",
    "Severity",
    "ShortText",
    "SimilarIncident",
    "UtcDatetime",
    "WIRE_MODELS",
    "WireModel",
    "decode",
    "encode",
    "utc_now",
]
