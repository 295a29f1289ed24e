"""Every topic, the model it carries and its key; no topic name appears anywhere else."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.models import (
    AnomalyEvent,
    AuditStep,
    ChangeEvent,
    DeadLetter,
    Incident,
    InventoryRecord,
    MetricBatch,
    OperatorCommand,
    PastIncident,
    PeerSummary,
    RemediationRequest,
    RemediationResult,
    RememberedIncident,
    WireModel,
)


@dataclass(frozen=True)
class TopicSpec:
    """A topic's base name, the message model on it and what its key means."""

    base_name: str
    model: type[WireModel]
    key: str
    compacted: bool = False
    retention_s: int | None = None  # with compacted: also delete segments older than this

    def configs(self) -> dict[str, str]:
        """Topic configs it is created with (cleanup policy and retention)."""
        if not self.compacted:
            return {}
        if self.retention_s is None:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "compact,delete", "retention.ms": str(self.retention_s * 1000)}

    def name(self, prefix: str = "") -> str:
        """Full topic name under a deployment prefix (``""`` or e.g. ``"staging."``)."""
        return f"{prefix}{self.base_name}"


METRICS = TopicSpec("fleet.metrics", MetricBatch, key="node_id")
ANOMALIES = TopicSpec("fleet.anomalies", AnomalyEvent, key="node_id")
REMEDIATION = TopicSpec("fleet.remediation", RemediationRequest, key="node_id")
REMEDIATION_RESULTS = TopicSpec("fleet.remediation.results", RemediationResult, key="node_id")
# Nodes' audit steps; the incident stage writes them to InfluxDB (nodes hold no DB credentials).
REMEDIATION_AUDIT = TopicSpec("fleet.remediation.audit", AuditStep, key="node_id")
DEADLETTER = TopicSpec("fleet.deadletter", DeadLetter, key="topic")
INCIDENTS = TopicSpec("fleet.incidents", Incident, key="incident_id", compacted=True)
# What the incident stage must not forget (state, actions, outcomes, operator feedback), replayed
# whole when it starts: compacted, so the latest record per incident is kept.
MEMORY = TopicSpec("fleet.incidents.memory", RememberedIncident, key="incident_id", compacted=True)
# What the diagnosis learned: each diagnosed incident's signature, its confirmed kind and what
# fixed it, replayed into the history and classifier at start (compacted, latest per incident).
HISTORY = TopicSpec("fleet.incidents.history", PastIncident, key="incident_id", compacted=True)
CONTROL = TopicSpec("fleet.control", OperatorCommand, key="command_id")
# Every incident change again, once per subscription key (node:ID, role:web, team:x): a follower
# of one node, role or team reads the one partition its key hashes to.
ALERTS = TopicSpec("fleet.alerts", Incident, key="subscription key")
CHANGES = TopicSpec("fleet.changes", ChangeEvent, key="change_id")
# Every node and its labels, latest per node (compacted): the incident stage's cohort sizes. A
# node's record is refreshed every few minutes, so deleting segments after a week only forgets
# nodes that are gone.
INVENTORY = TopicSpec(
    "fleet.inventory", InventoryRecord, key="node_id", compacted=True, retention_s=7 * 86_400
)
# Internal to the stream stage: nodes' per-round summaries, keyed by cohort (role=web).
PEERS = TopicSpec("fleet.peers", PeerSummary, key="cohort")

ALL_TOPICS: tuple[TopicSpec, ...] = (
    METRICS,
    ANOMALIES,
    REMEDIATION,
    REMEDIATION_RESULTS,
    REMEDIATION_AUDIT,
    DEADLETTER,
    INCIDENTS,
    MEMORY,
    HISTORY,
    CONTROL,
    ALERTS,
    CHANGES,
    PEERS,
    INVENTORY,
)
