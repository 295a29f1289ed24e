"""Each node's mean metrics over a round: the summaries the peer stage compares (pure)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Summary = tuple[str, str, float, dict[str, float]]


@dataclass
class _NodeRound:
    """One node's open round: sums and counts of finite values per metric, in ``names`` order."""

    round_s: float
    cohort: str
    names: tuple[str, ...]
    sums: Floats
    counts: Floats

    def add(self, names: tuple[str, ...], values: Floats) -> None:
        if names == self.names and np.isfinite(values).all():  # the usual case: 3 NumPy calls
            self.sums += values
            self.counts += 1.0
            return
        finite = np.isfinite(values)
        if names != self.names:  # the node's metrics changed mid-round: merge by name (rare)
            pairs = zip(self.sums.tolist(), self.counts.tolist(), strict=True)
            merged = dict(zip(self.names, pairs, strict=True))
            for name in names:
                merged.setdefault(name, (0.0, 0.0))
            self.names = tuple(merged)
            self.sums = np.array([v[0] for v in merged.values()])
            self.counts = np.array([v[1] for v in merged.values()])
            where = np.array([self.names.index(n) for n in names], dtype=np.intp)
            np.add.at(self.sums, where, np.where(finite, values, 0.0))
            np.add.at(self.counts, where, finite)
            return
        self.sums += np.where(finite, values, 0.0)
        self.counts += finite

    def means(self) -> dict[str, float]:
        seen = self.counts > 0
        means = self.sums[seen] / self.counts[seen]
        names = [n for n, s in zip(self.names, seen.tolist(), strict=True) if s]
        return dict(zip(names, means.tolist(), strict=True))


class NodeRounds:
    """Each node's mean values over a round, handed out when the node moves to the next round.

    The summary a cohort compares: a node sampled every 10 s sends one mean per minute, not six
    raw values (non-finite values are left out of the mean). Bounded: beyond ``max_nodes`` the
    node seen least recently is dropped.

    Examples
    --------
    >>> rounds = NodeRounds(round_s=60.0)
    >>> rounds.add("web-1", "role=web", 0.0, {"cpu.usage_user": 10.0})
    >>> rounds.add("web-1", "role=web", 30.0, {"cpu.usage_user": 20.0})
    >>> rounds.add("web-1", "role=web", 60.0, {"cpu.usage_user": 5.0})
    ('web-1', 'role=web', 0.0, {'cpu.usage_user': 15.0})
    """

    def __init__(self, round_s: float = 60.0, max_nodes: int = 100_000) -> None:
        if not round_s > 0:
            raise ValueError(f"round_s must be > 0, got {round_s}")
        self.round_s, self.max_nodes = round_s, max_nodes
        self.open: OrderedDict[str, _NodeRound] = OrderedDict()

    def add(
        self, node_id: str, cohort: str, at_s: float, metrics: dict[str, float]
    ) -> Summary | None:
        """Add one batch; returns ``(node, cohort, round_s, means)`` of the round it closed.

        A batch older than the node's open round is folded into it (late samples are rare and a
        round is short).
        """
        round_s = (at_s // self.round_s) * self.round_s
        names = tuple(metrics)
        values = np.fromiter(metrics.values(), float, len(names))
        current = self.open.get(node_id)
        done = None
        if current is not None and round_s > current.round_s:
            done = (node_id, current.cohort, current.round_s, current.means())
            current = None
        if current is None:
            empty = np.zeros(len(names))
            current = _NodeRound(round_s, cohort, names, empty, empty.copy())
            self.open[node_id] = current
            if len(self.open) > self.max_nodes:
                self.open.popitem(last=False)
        self.open.move_to_end(node_id)
        current.add(names, values)
        return done
