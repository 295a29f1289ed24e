"""The vote: analyzers, similar past incidents and the classifier each score kinds; weights add."""

from __future__ import annotations

from collections.abc import Mapping

# Confirmed incidents of this fleet are more specific than general rules: a close past match
# outvotes an analyzer, while a weak one (similarity ~0.3) only tips a close call.
SOURCE_WEIGHTS: Mapping[str, float] = {"analyzers": 1.0, "history": 2.0, "classifier": 0.5}
# Below this share of the vote the diagnosis abstains ("unknown") and a human is paged.
MIN_CONFIDENCE = 0.3


def combine(votes: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Weighted mean of each kind's confidence over the sources that voted at all.

    Parameters
    ----------
    votes
        Per source name, a confidence in [0, 1] per kind; a source with no kinds did not vote.

    Examples
    --------
    >>> combine({"analyzers": {"disk_full": 0.9}, "history": {}, "classifier": {}})
    {'disk_full': 0.9}
    """
    voting = {s: kinds for s, kinds in votes.items() if kinds}
    total = sum(SOURCE_WEIGHTS[s] for s in voting)
    scores: dict[str, float] = {}
    for source, kinds in voting.items():
        for kind, confidence in kinds.items():
            share = SOURCE_WEIGHTS[source] * min(max(confidence, 0.0), 1.0) / total
            scores[kind] = scores.get(kind, 0.0) + share
    return dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))
