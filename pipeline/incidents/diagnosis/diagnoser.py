"""Diagnose one incident's evidence, and learn from the kinds operators confirm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView
from pipeline.incidents.diagnosis.analyzers.owner import owning_unit, process_in
from pipeline.incidents.diagnosis.analyzers.registry import UNKNOWN, analyze_many
from pipeline.incidents.diagnosis.classifier import KindClassifier
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.history import (
    History,
    Neighbour,
    fixes_of,
)
from pipeline.incidents.diagnosis.signature import signature_of, strength
from pipeline.incidents.diagnosis.vote import MIN_CONFIDENCE, combine
from pipeline.models import (
    ActionOutcome,
    DeviationNote,
    Diagnosis,
    DiagnosisCulprit,
    FixTally,
    KindVote,
    PastIncident,
    SimilarIncident,
)

NEIGHBOURS = 5


@dataclass
class Diagnoser:
    """The three sources and the threshold below which the answer is ``unknown``."""

    history: History = field(default_factory=History)
    classifier: KindClassifier = field(default_factory=KindClassifier)
    min_confidence: float = MIN_CONFIDENCE

    @classmethod
    def from_history(cls, history: History) -> Diagnoser:
        """A diagnoser whose classifier has learned every remembered incident."""
        return cls(history, KindClassifier.from_history(history.to_records()))

    def diagnose_one(self, evidence: Evidence) -> Diagnosis:
        """The diagnosis of ``evidence``: kind, culprit, confidence, evidence and alternatives."""
        views = [NodeView.of(node) for node in evidence.nodes]
        findings = analyze_many(evidence, views)
        ranked = _rank_nodes(views, findings)
        signature = signature_of(ranked[0].deviations) if ranked else {}
        neighbours = self.history.similar_many(signature, evidence.text, NEIGHBOURS)
        votes = {
            "analyzers": _best_per_kind(findings),
            "history": self.history.kind_scores(neighbours),
            "classifier": self.classifier.predict_proba_one(signature),
        }
        scores = combine(votes)
        return _diagnosis(scores, votes, findings, ranked, neighbours, self.min_confidence)

    def confirm_one(
        self,
        evidence: Evidence,
        kind: str,
        *,
        culprit_node: str | None = None,
        culprit: str | None = None,
        actions: Sequence[ActionOutcome] = (),
        by: str = "operator",
    ) -> PastIncident:
        """Learn that ``evidence`` was ``kind`` (any name an operator gives); returns the record."""
        record = record_of(evidence, kind, culprit_node, culprit, actions)
        record = PastIncident.model_validate(record.model_dump() | {"confirmed_by": by})
        self.learn_one(record)
        return record

    def learn_one(self, record: PastIncident) -> None:
        """Remember a confirmed record in the history and teach it to the classifier."""
        self.history.add_one(record)
        self.classifier.learn_one(record.signature, record.kind)


def record_of(
    evidence: Evidence,
    kind: str,
    culprit_node: str | None = None,
    culprit: str | None = None,
    actions: Sequence[ActionOutcome] = (),
    culprit_unit: str | None = None,
) -> PastIncident:
    """``evidence`` as a history record: the signature of its culprit node (else its top node)."""
    views = [NodeView.of(n) for n in evidence.nodes if culprit_node in (None, n.node_id)]
    top = _rank_nodes(views, [])[0] if views else None
    return PastIncident(
        incident_id=evidence.incident_id,
        kind=kind,
        culprit=culprit,
        culprit_node=culprit_node or (top.node.node_id if top else None),
        culprit_unit=culprit_unit,
        signature=signature_of(top.deviations) if top else {},
        text=evidence.text,
        actions=list(actions),
    )


def _best_per_kind(findings: list[Finding]) -> dict[str, float]:
    best: dict[str, float] = {}
    for f in findings:
        best[f.kind] = max(best.get(f.kind, 0.0), f.confidence)
    return best


def _rank_nodes(views: list[NodeView], findings: list[Finding]) -> list[NodeView]:
    """Nodes by their most confident finding, then by how much they moved overall."""
    top = {f.node_id: f.confidence for f in reversed(findings)}
    return sorted(
        views,
        key=lambda v: (-top.get(v.node.node_id, 0.0), -strength(signature_of(v.deviations))),
    )


def _diagnosis(
    scores: dict[str, float],
    votes: dict[str, dict[str, float]],
    findings: list[Finding],
    ranked: list[NodeView],
    neighbours: list[Neighbour],
    min_confidence: float,
) -> Diagnosis:
    kind, confidence = next(iter(scores.items()), (UNKNOWN, 0.0))
    abstain = confidence < min_confidence
    of_kind = [f for f in findings if f.kind == kind]
    nodes = _nodes_for(kind, of_kind, ranked)
    culprit = _culprit(of_kind, neighbours, kind, nodes, ranked)
    return Diagnosis(
        kind=UNKNOWN if abstain else kind,
        confidence=round(confidence, 3),
        culprit=culprit,
        ranked_nodes=nodes[:10],
        evidence=list(of_kind[0].evidence if of_kind else ())[:10],
        deviations=_deviation_notes(ranked[0]) if ranked else [],
        alternatives=[
            KindVote(kind=k, confidence=round(c, 3))
            for k, c in list(scores.items())[0 if abstain else 1 :][:5]
        ],
        sources=[_source_vote(s, v) for s, v in votes.items() if v],
        similar=[_similar(n) for n in neighbours[:5]],
        fixes=[
            FixTally(action=a, worked=w, tried=t)
            for a, (w, t) in sorted(fixes_of(neighbours, kind).items())
        ][:5],
    )


def _nodes_for(kind: str, of_kind: list[Finding], ranked: list[NodeView]) -> list[str]:
    first = [f.node_id for f in of_kind]
    rest = [v.node.node_id for v in ranked if v.node.node_id not in first]
    return list(dict.fromkeys(first)) + rest


def _culprit(
    of_kind: list[Finding],
    neighbours: list[Neighbour],
    kind: str,
    nodes: list[str],
    ranked: list[NodeView],
) -> DiagnosisCulprit:
    named = next((f for f in of_kind if f.culprit), None)
    process = named.culprit if named else None
    if process is None:
        process = next((n.past.culprit for n in neighbours if n.past.kind == kind), None)
    change = next((f.change_id for f in of_kind if f.change_id), None)
    node_id = named.node_id if named else (nodes[0] if nodes else None)
    view = next((v for v in ranked if v.node.node_id == node_id), None)
    unit = None
    if view is not None and process:
        unit = owning_unit(view.node, process)
        process = process_in(view.node, process)
    return DiagnosisCulprit(
        node_id=nodes[0] if nodes else None, process=process, unit=unit, change_id=change
    )


def _deviation_notes(view: NodeView) -> list[DeviationNote]:
    top = sorted(view.deviations.values(), key=lambda d: -abs(d.z))[:5]
    return [
        DeviationNote(metric=d.metric, before=d.before_mean, during=d.window_mean, z=d.z)
        for d in top
        if abs(d.z) > 0
    ]


def _source_vote(source: str, kinds: dict[str, float]) -> KindVote:
    kind, confidence = max(kinds.items(), key=lambda item: item[1])
    # Validated: source names are the Literal's ("analyzers", "history", "classifier").
    return KindVote.model_validate(
        {"kind": kind, "confidence": round(min(max(confidence, 0.0), 1.0), 3), "source": source}
    )


def _similar(n: Neighbour) -> SimilarIncident:
    worked = next((a for a in n.past.actions if a.worked), None)
    return SimilarIncident(
        incident_id=n.past.incident_id,
        similarity=round(min(max(n.similarity, 0.0), 1.0), 3),
        action=worked.action if worked else None,
        outcome=n.past.kind,
    )
