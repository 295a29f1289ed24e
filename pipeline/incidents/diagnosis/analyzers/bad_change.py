"""bad_change: the nodes a change touched started deviating after it; culprit the change."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import ChangeRecord, Evidence, NodeEvidence
from pipeline.incidents.diagnosis.signature import deviations_of

# A bad deploy shows within minutes of rolling out; an hour leaves room for slow rollouts without
# blaming yesterday's change for today's fault.
LOOKBACK_S = 3600.0
# Most nodes a change reached must deviate (a strict majority): one sick node among many changed
# ones is its own fault, not the change's.
MIN_SHARE_DEVIATING = 0.5
Z_DEVIATING = 3.0
# A unit restart the agent saw is a symptom (process_crash), not a change someone made.
BLAMEABLE = frozenset({"deploy", "config", "package", "kernel"})


class BadChange:
    """A change covering this node landed shortly before the window, and its nodes deviate."""

    kind = "bad_change"

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        signals = [d for d in view.deviations.values() if abs(d.z) >= Z_DEVIATING]
        if not signals:
            return None
        for change in _recent_first(evidence.changes, view.node):
            share = _share_deviating(evidence, change)
            if share > MIN_SHARE_DEVIATING:
                signals.sort(key=lambda d: -abs(d.z))
                scale = 0.6 + 0.4 * share
                return finding(
                    self.kind, view, signals[:4], scale=scale, change_id=change.change_id
                )
        return None


def _covers(change: ChangeRecord, node: NodeEvidence) -> bool:
    if change.node_ids:
        return node.node_id in change.node_ids
    return change.role is not None and node.labels.get("role") == change.role


def _recent_first(changes: tuple[ChangeRecord, ...], node: NodeEvidence) -> list[ChangeRecord]:
    start_s = node.window_start_s
    fitting = [
        c
        for c in changes
        if c.kind in BLAMEABLE
        and _covers(c, node)
        and 0.0 <= start_s - c.at.timestamp() <= LOOKBACK_S
    ]
    return sorted(fitting, key=lambda c: -c.at.timestamp())


def _share_deviating(evidence: Evidence, change: ChangeRecord) -> float:
    covered = [n for n in evidence.nodes if _covers(change, n)]
    deviating = [
        n for n in covered if any(abs(d.z) >= Z_DEVIATING for d in deviations_of(n).values())
    ]
    return len(deviating) / len(covered) if covered else 0.0
