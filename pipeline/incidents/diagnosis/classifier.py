"""A classifier learned online (River) from confirmed incidents' deviation signatures.

Gaussian naive Bayes keeps a mean and variance per kind and metric, updated one confirmed
incident at a time; it needs a few examples of a kind before its variance means anything, so it
only votes for kinds it has seen ``MIN_EXAMPLES`` times. Its state is rebuilt from the history
on start, so only the history needs persisting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from river import naive_bayes

from pipeline.models import PastIncident

MIN_EXAMPLES = 3
# River's GaussianNB is unannotated; the model is used through ``Any`` from here on.
_GaussianNB: Callable[[], Any] = naive_bayes.GaussianNB


class KindClassifier:
    """Online classifier of fault kinds over signatures (``learn_one`` / ``predict_proba_one``)."""

    def __init__(self) -> None:
        self.model = _GaussianNB()
        self.seen: Counter[str] = Counter()

    @classmethod
    def from_history(cls, records: Iterable[PastIncident]) -> KindClassifier:
        """A classifier that has learned every record, in order."""
        classifier = cls()
        for record in records:
            classifier.learn_one(record.signature, record.kind)
        return classifier

    def learn_one(self, signature: Mapping[str, float], kind: str) -> None:
        """Learn that ``signature`` was a confirmed ``kind``."""
        if signature:
            self.model.learn_one(dict(signature), kind)
            self.seen[kind] += 1

    def predict_proba_one(self, signature: Mapping[str, float]) -> dict[str, float]:
        """Probability per kind, over the kinds seen at least ``MIN_EXAMPLES`` times.

        Returns an empty dict while no kind has enough examples.
        """
        ready = {k for k, n in self.seen.items() if n >= MIN_EXAMPLES}
        if len(ready) < 2 or not signature:
            return {}
        proba: dict[str, float] = self.model.predict_proba_one(dict(signature))
        kept = {k: p for k, p in proba.items() if k in ready}
        total = sum(kept.values())
        return {k: p / total for k, p in kept.items()} if total > 0 else {}
