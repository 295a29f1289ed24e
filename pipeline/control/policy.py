"""How much of the fleet may be acted on at once, and which actions wait for an operator.

The blast-radius guard runs where requests are issued (with the group's population, so a share
can be enforced); the issuer signs the window's node count into each request (``blast_nodes``)
and every node refuses one beyond its own ``blast_max_nodes``, reading no other node's request.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from pipeline.config import ControlSettings
from pipeline.control.catalogue import CATALOGUE
from pipeline.errors import ActionRefused


def needs_approval(action: str, requested: bool, settings: ControlSettings) -> bool:
    """Whether an operator must approve: the issuer asked, the settings or the catalogue insist."""
    spec = CATALOGUE.get(action)
    return requested or action in settings.approval_required or bool(spec and spec.always_approval)


def allowed_in_group(max_share: float, population: int) -> int:
    """How many of ``population`` hosts may be acted on; at least one so small groups heal."""
    return max(1, math.floor(max_share * population))


class BlastRadiusGuard:
    """Never act on more than ``max_nodes`` nodes, or ``max_share`` of a group, per window.

    Parameters
    ----------
    max_nodes
        Distinct nodes fleet-wide per ``window_s``.
    max_share
        Share of one group's (e.g. ``role=web``) population per ``window_s``.
    window_s
        The sliding window.
    """

    def __init__(self, max_nodes: int, max_share: float, window_s: float) -> None:
        self.max_nodes = max_nodes
        self.max_share = max_share
        self.window_s = window_s
        self._admitted: deque[tuple[datetime, str, str | None]] = deque()
        self._labels: dict[str, dict[str, str]] = {}

    def admit(
        self,
        node_id: str,
        group: str | None,
        population: int | None,
        now: datetime,
        labels: dict[str, str] | None = None,
    ) -> None:
        """Admit one action on ``node_id`` (member of ``group``) or raise ActionRefused.

        A group's count includes every admitted node carrying its label, whatever group it was
        admitted under: actions for a zone's incident count against the role's share too.
        """
        self._expire(now)
        nodes = {n for _, n, _ in self._admitted}
        if node_id not in nodes and len(nodes) >= self.max_nodes:
            raise ActionRefused(
                f"blast radius: {len(nodes)} nodes acted on in {self.window_s:g} s "
                f"(max {self.max_nodes})"
            )
        if group is not None and population:
            key, _, value = group.partition("=")
            in_group = {
                n
                for _, n, g in self._admitted
                if g == group or self._labels.get(n, {}).get(key) == value
            }
            limit = allowed_in_group(self.max_share, population)
            if node_id not in in_group and len(in_group) >= limit:
                raise ActionRefused(
                    f"blast radius: {len(in_group)} of {population} {group} nodes acted on "
                    f"(max {self.max_share:.0%} = {limit})"
                )
        self._admitted.append((now, node_id, group))
        if labels is not None:
            self._labels[node_id] = dict(labels)

    def seen_nodes(self, now: datetime) -> int:
        """Distinct nodes admitted within the window ending ``now``."""
        self._expire(now)
        return len({n for _, n, _ in self._admitted})

    def _expire(self, now: datetime) -> None:
        horizon = now - timedelta(seconds=self.window_s)
        while self._admitted and self._admitted[0][0] <= horizon:
            self._admitted.popleft()
        live = {n for _, n, _ in self._admitted}
        for node_id in [n for n in self._labels if n not in live]:
            del self._labels[node_id]
