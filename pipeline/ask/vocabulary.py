"""The names a question may mention: nodes, roles and metrics the store holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

_MIN_SCORE = 85.0  # close enough for a typo (web-1 → web-01), far from a different node


@dataclass(frozen=True)
class Vocabulary:
    """Known names; ``role_of`` maps a node to its ``role`` label when it has one."""

    nodes: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    role_of: dict[str, str] = field(default_factory=dict)

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role some node carries."""
        return tuple(sorted(set(self.role_of.values())))

    def match_node(self, word: str) -> str | None:
        """The known node ``word`` names (exactly or within a typo), else None."""
        return _closest(word, self.nodes)

    def match_metric(self, word: str) -> str | None:
        """The known metric ``word`` names (exactly or within a typo), else None."""
        return _closest(word, self.metrics)

    def expand(self, metrics: tuple[str, ...]) -> tuple[str, ...]:
        """Families (``mem.*``) replaced by the known metrics they cover; exact names kept."""
        out: set[str] = set()
        for metric in metrics:
            if metric.endswith("*"):
                prefix = metric[:-1]
                out.update(name for name in self.metrics if name.startswith(prefix))
            else:
                out.add(metric)
        return tuple(sorted(out))

    def nodes_of(self, roles: tuple[str, ...]) -> tuple[str, ...]:
        """The nodes carrying one of ``roles``."""
        return tuple(sorted(node for node, role in self.role_of.items() if role in roles))


def _closest(word: str, choices: tuple[str, ...]) -> str | None:
    if word in choices:
        return word
    best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=_MIN_SCORE)
    return None if best is None else str(best[0])


NODE_LIKE = re.compile(r"\b[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*[-_]\d+[a-z0-9]*\b")
METRIC_LIKE = re.compile(r"\b[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\b")
