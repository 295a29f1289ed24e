"""Every topic, the model it carries and its key; no topic name appears anywhere else."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.models import (
    AnomalyEvent,
    AuditStep,
    ChangeEvent,
    DeadLetter,
    Incident,
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
)
