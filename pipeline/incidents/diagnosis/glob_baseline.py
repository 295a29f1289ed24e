"""The old way, scored for comparison: a metric-glob runbook picks by which metrics deviated."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from pipeline.incidents.diagnosis.analyzers.base import Z_NOTICED, NodeView
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.models import Diagnosis, Incident

# What the old rules meant by each glob: the kind an operator would read into a match.
GLOB_KINDS: Mapping[str, str] = {
    "cpu.*": "cpu_saturation",
    "mem.*": "memory_pressure",
    "disk.*": "disk_full",
    "net.*": "network_degradation",
}


class GlobRule(Protocol):
    """The part of a runbook rule the baseline reads: its metric glob."""

    @property
    def name(self) -> str:
        """The rule's name."""
        ...


class GlobRunbook(Protocol):
    """A runbook whose first matching rule wins (``pipeline...runbooks.Runbook``)."""

    def match_one(self, incident: Incident) -> object | None:
        """The first rule that applies, or None."""
        ...


def kind_of_rule(rule_glob: str) -> str:
    """The kind a rule's metric glob stands for (``unknown`` for any other glob)."""
    return next((k for g, k in GLOB_KINDS.items() if fnmatch.fnmatchcase(rule_glob, g)), "unknown")


def glob_diagnose_one(evidence: Evidence, runbook: GlobRunbook) -> Diagnosis:
    """What the glob runbook would have done, read as a diagnosis: one incident per node.

    The node whose metrics moved most becomes the incident; its metrics past three sigmas are the
    incident's metrics, as the detector would have flagged them.
    """
    views = sorted(
        (NodeView.of(n) for n in evidence.nodes),
        key=lambda v: -sum(abs(d.z) >= Z_NOTICED for d in v.deviations.values()),
    )
    top = views[0]
    moved = sorted(
        (d for d in top.deviations.values() if abs(d.z) >= Z_NOTICED), key=lambda d: -abs(d.z)
    )[:64]
    at = datetime.fromtimestamp(top.node.window_start_s, UTC)
    incident = Incident(
        incident_id=evidence.incident_id,
        dedup_key=evidence.incident_id,
        kind="host",
        status="open",
        severity="critical",
        title="baseline",
        node_id=top.node.node_id,
        labels=dict(top.node.labels),
        metrics=[d.metric for d in moved],
        affected_nodes=[top.node.node_id],
        affected_count=1,
        event_count=max(1, len(moved)),
        opened_at=at,
        updated_at=at,
    )
    rule = runbook.match_one(incident) if moved else None
    glob = getattr(getattr(rule, "match", None), "metric", "")
    return Diagnosis(
        kind=kind_of_rule(glob) if rule else "unknown",
        confidence=1.0 if rule else 0.0,
        ranked_nodes=[v.node.node_id for v in views][:10],
    )
