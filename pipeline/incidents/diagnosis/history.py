"""Memory of confirmed incidents: retrieval by deviation signature and text, with what fixed them.

Signatures are compared after standardising each metric over the remembered incidents, like
features before a nearest-neighbour search: a metric that moves alike in every incident (a
throughput dip any fault causes) stops deciding, one that tells incidents apart decides more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from pipeline.models import PastIncident

# Standardising needs a population; below three remembered incidents plain cosine is used.
MIN_POPULATION = 3
# The spread of a metric across incidents is floored at one baseline sigma in signature units
# (log1p(1)): a metric whose deviations differ by less than that across incidents is not amplified.
SPREAD_FLOOR = float(np.log1p(1.0))
TEXT_WEIGHT = 0.2


@dataclass(frozen=True)
class Neighbour:
    """A remembered incident and how similar it is to the one being diagnosed."""

    past: PastIncident
    similarity: float


class History:
    """Confirmed incidents, keyed by id (a later confirmation of the same id replaces it)."""

    def __init__(self, records: Iterable[PastIncident] = ()) -> None:
        self._records: dict[str, PastIncident] = {r.incident_id: r for r in records}
        self._index: _Index | None = None

    def __len__(self) -> int:
        return len(self._records)

    def add_one(self, record: PastIncident) -> None:
        """Remember ``record``, replacing an earlier one with the same incident id."""
        self._records[record.incident_id] = record
        self._index = None

    def to_records(self) -> list[PastIncident]:
        """Every record, in insertion order (what a compacted topic would keep)."""
        return list(self._records.values())

    @classmethod
    def from_records(cls, records: Iterable[PastIncident | Mapping[str, object]]) -> History:
        """A history from records or their JSON-like dicts."""
        return cls(
            r if isinstance(r, PastIncident) else PastIncident.model_validate(r) for r in records
        )

    def similar_many(
        self, signature: Mapping[str, float], text: str = "", limit: int = 5
    ) -> list[Neighbour]:
        """The ``limit`` most similar remembered incidents, most similar first."""
        if not self._records:
            return []
        self._index = self._index or _Index(list(self._records.values()))
        similarity = self._index.cosine_many(signature)
        if text:
            words = _words(text)
            similarity = [
                (1 - TEXT_WEIGHT) * s + TEXT_WEIGHT * _jaccard(words, _words(p.text))
                for s, p in zip(similarity, self._index.records, strict=True)
            ]
        order = np.argsort(-np.asarray(similarity), kind="stable")[:limit]
        return [Neighbour(self._index.records[i], float(similarity[i])) for i in order]

    def kind_scores(self, neighbours: list[Neighbour]) -> dict[str, float]:
        """Each kind's best similarity among ``neighbours`` (negative similarities count 0)."""
        scores: dict[str, float] = {}
        for n in neighbours:
            scores[n.past.kind] = max(scores.get(n.past.kind, 0.0), max(n.similarity, 0.0))
        return scores


def fixes_of(neighbours: Iterable[Neighbour], kind: str) -> dict[str, tuple[int, int]]:
    """Per action tried on similar incidents of ``kind``: (times it worked, times verified)."""
    tally: dict[str, tuple[int, int]] = {}
    for n in neighbours:
        if n.past.kind != kind:
            continue
        for outcome in n.past.actions:
            worked, tried = tally.get(outcome.action, (0, 0))
            verified = outcome.worked is not None
            tally[outcome.action] = (worked + bool(outcome.worked), tried + verified)
    return tally


class _Index:
    """Remembered signatures as a matrix, standardised per metric over the population."""

    def __init__(self, records: list[PastIncident]) -> None:
        self.records = records
        self.metrics = sorted(set().union(*(r.signature for r in records)))
        self.column = {m: i for i, m in enumerate(self.metrics)}
        matrix = np.array([[r.signature.get(m, np.nan) for m in self.metrics] for r in records])
        self.present = np.isfinite(matrix)
        matrix = np.nan_to_num(matrix)
        if len(records) >= MIN_POPULATION:
            self.mean = matrix.mean(axis=0)
            self.spread = matrix.std(axis=0) + SPREAD_FLOOR
        else:
            self.mean, self.spread = np.zeros(len(self.metrics)), np.ones(len(self.metrics))
        self.matrix = (matrix - self.mean) / self.spread

    def cosine_many(self, signature: Mapping[str, float]) -> list[float]:
        """Cosine of ``signature`` with each record over the metrics both hold."""
        query = np.zeros(len(self.metrics))
        mask = np.zeros(len(self.metrics), dtype=bool)
        for metric, value in signature.items():
            if (i := self.column.get(metric)) is not None:
                query[i], mask[i] = (value - self.mean[i]) / self.spread[i], True
        shared = self.present & mask
        rows = np.where(shared, self.matrix, 0.0)
        q = np.where(shared, query, 0.0)
        dots = (rows * q).sum(axis=1)
        norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(q, axis=1)
        return [float(d / n) if n > 0 else 0.0 for d, n in zip(dots, norms, strict=True)]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9_]{3,}", text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0
