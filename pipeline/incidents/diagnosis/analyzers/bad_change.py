"""bad_change: the nodes a change reached started deviating alike right after it."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import ChangeRecord, Evidence, NodeEvidence
from pipeline.incidents.diagnosis.signature import cosine, deviations_of, node_signature, strength

# A bad release shows within minutes: the new code runs as soon as its unit restarts. A fault
# that starts later than this after a change is a coincidence, not the change.
EFFECT_WITHIN_S = 300.0
# A strict majority of the nodes the change reached must deviate like the worst of them (signatures
# pointing the same way); nodes it did not reach must not (they are the control group).
MIN_SHARE_ALIKE = 0.5
MIN_COSINE_ALIKE = 0.5
Z_DEVIATING = 3.0
# A unit restart the agent saw is a symptom (process_crash), not a change someone made.
BLAMEABLE = frozenset({"deploy", "config", "package", "kernel"})


class BadChange:
    """A change covering this node landed just before the window; its nodes deviate alike."""

    kind = "bad_change"
    explains: tuple[str, ...] = (
        "cpu_saturation",
        "memory_pressure",
        "memory_leak",
        "process_crash",
        "app_errors",
        "network_degradation",
        "load_spike",
    )

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        signals = sorted(
            (d for d in view.deviations.values() if abs(d.z) >= Z_DEVIATING),
            key=lambda d: -abs(d.z),
        )
        if not signals:
            return None
        for change in _recent_first(evidence.changes, view.node):
            reached, spared = _alike_shares(evidence, change)
            if reached > MIN_SHARE_ALIKE and spared <= MIN_SHARE_ALIKE:
                scale = 0.6 + 0.4 * reached
                # The changed unit restarts into the new version; else what grew most.
                culprit = view.top_culprit("restarts_per_s", "cpu_percent", "memory_bytes")
                return finding(
                    self.kind,
                    view,
                    signals[:4],
                    scale=scale,
                    culprit=culprit,
                    change_id=change.change_id,
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
        and 0.0 <= start_s - c.at.timestamp() <= EFFECT_WITHIN_S
    ]
    return sorted(fitting, key=lambda c: -c.at.timestamp())


def _alike_shares(evidence: Evidence, change: ChangeRecord) -> tuple[float, float]:
    """Shares of the reached and of the spared nodes deviating like the most deviating reached one.

    A verdict about the whole incident: computed once per change, then memoised.
    """
    key = f"bad_change:{change.change_id}"
    if key not in evidence.memo:
        deviating = {
            n.node_id: node_signature(n)
            for n in evidence.nodes
            if any(abs(d.z) >= Z_DEVIATING for d in deviations_of(n).values())
        }
        reached = [n.node_id for n in evidence.nodes if _covers(change, n)]
        spared = [n.node_id for n in evidence.nodes if not _covers(change, n)]
        worst = max((deviating[n] for n in reached if n in deviating), key=strength, default={})
        alike = {n for n, sig in deviating.items() if cosine(sig, worst) >= MIN_COSINE_ALIKE}
        evidence.memo[key] = (
            _share([n in alike for n in reached]),
            _share([n in alike for n in spared]),
        )
    return evidence.memo[key]  # type: ignore[return-value]  # only this function writes the key


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0
