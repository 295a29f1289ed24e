"""Diagnosis hints: first and top deviating metrics, peers, and similar past incidents."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.models import DiagnosisHints, MetricDeviation, SimilarIncident

MIN_SIMILARITY = 0.5


@dataclass(frozen=True)
class PastIncident:
    """A resolved incident remembered for similarity: its metric signature and how it ended."""

    incident_id: str
    signature: frozenset[str]
    action: str | None = None
    outcome: str | None = None


def signature_of(metrics: Iterable[str], directions: Mapping[str, str]) -> frozenset[str]:
    """``metric:up``/``metric:down`` strings: the same metrics deviating the same way."""
    return frozenset(f"{m}:{directions.get(m, 'up')}" for m in metrics)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Size of the intersection over size of the union (0 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def similar_many(
    signature: frozenset[str], history: Iterable[PastIncident], limit: int = 3
) -> list[SimilarIncident]:
    """Past incidents most like ``signature``, those with a known outcome first among equals."""
    scored = [(jaccard(signature, past.signature), past) for past in history]
    ranked = sorted(
        (pair for pair in scored if pair[0] >= MIN_SIMILARITY),
        key=lambda pair: (pair[0], pair[1].outcome is not None),
        reverse=True,
    )
    return [
        SimilarIncident(
            incident_id=past.incident_id,
            similarity=round(score, 3),
            action=past.action,
            outcome=past.outcome,
        )
        for score, past in ranked[:limit]
    ]


def build_hints(
    deviations: Iterable[MetricDeviation],
    peers: Iterable[str],
    similar: list[SimilarIncident],
) -> DiagnosisHints:
    """Hints from an incident's per-metric deviations (any order)."""
    items = list(deviations)
    first = min(items, key=lambda d: (d.first_at, d.metric), default=None)
    top = sorted(items, key=lambda d: (-d.score, d.first_at, d.metric))[:5]
    return DiagnosisHints(
        first_metric=first.metric if first else None,
        first_at=first.first_at if first else None,
        top=top,
        # The 10 first by name without sorting all: a host incident amid fleet-wide noise has
        # thousands of peers, and sorting them for each snapshot was half of a 200k-node stage.
        peers=heapq.nsmallest(10, peers),
        similar=similar,
    )
