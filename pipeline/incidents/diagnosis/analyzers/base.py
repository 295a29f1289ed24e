"""What every analyzer shares: the finding it returns and the view of one node it reads."""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.incidents.diagnosis.analyzers.culprit import top_culprit
from pipeline.incidents.diagnosis.evidence import Evidence, FloatArray, NodeEvidence
from pipeline.incidents.diagnosis.signature import Deviation, deviations_of

# A deviation under 3 baseline sigmas is noise (the usual three-sigma rule); at 30 sigmas an
# analyzer is as sure as a deviation can make it. Between the two, confidence grows with log z.
Z_NOTICED = 3.0
Z_CERTAIN = 30.0


@dataclass(frozen=True)
class Finding:
    """An analyzer's claim: this kind of fault on this node, how sure, why and who caused it."""

    kind: str
    confidence: float
    node_id: str
    culprit: str | None = None
    change_id: str | None = None
    evidence: tuple[str, ...] = ()
    onset_share: float = 0.0


@dataclass(frozen=True)
class NodeView:
    """One node's deviations, computed once and shared by every analyzer."""

    node: NodeEvidence
    deviations: dict[str, Deviation] = field(default_factory=dict)

    @classmethod
    def of(cls, node: NodeEvidence) -> NodeView:
        """Compute the deviations of ``node``."""
        return cls(node, deviations_of(node))

    def matching(self, *patterns: str) -> list[Deviation]:
        """Deviations of metrics matching any glob in ``patterns``, largest |z| first."""
        regex = _compiled(patterns)
        found = [d for m, d in self.deviations.items() if regex.match(m)]
        return sorted(found, key=lambda d: -abs(d.z))

    def rising(self, *patterns: str, z_min: float = Z_NOTICED) -> Deviation | None:
        """The metric matching ``patterns`` that rose most, if it rose by at least ``z_min``."""
        up = [d for d in self.matching(*patterns) if d.z >= z_min]
        return max(up, key=lambda d: d.z, default=None)

    def falling(self, *patterns: str, z_min: float = Z_NOTICED) -> Deviation | None:
        """The metric matching ``patterns`` that fell most, if it fell by at least ``z_min``."""
        down = [d for d in self.matching(*patterns) if d.z <= -z_min]
        return min(down, key=lambda d: d.z, default=None)

    def top_culprit(self, *fields: str) -> str | None:
        """The process or unit that grew ``fields`` most (see :func:`culprit.top_culprit`)."""
        return top_culprit(self.node, *fields)

    def since_onset(self, d: Deviation, metric: str | None = None) -> tuple[FloatArray, FloatArray]:
        """``d``'s window values and their times from its onset on (all of them without one).

        ``metric`` reads another of the node's series over the same rows (the node has it).

        No onset (never stayed past its onset level) is ``onset_share`` 1, which a real onset
        cannot have, as it takes two rows. Cut there, only the last sample would be left:
        DBSherlock's CPU saturations (idle 50 -> 0 on a baseline noisy by 30) read 21-37 % busy.
        """
        in_window = self.node.in_window
        values = self.node.series[metric or d.metric][in_window]
        times = self.node.times_s[in_window]
        if d.onset_share >= 1.0 or values.size == 0:
            return values, times
        onset = int(d.onset_share * (values.size - 1))
        return values[onset:], times[onset:]


@functools.lru_cache(maxsize=1024)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a tuple of globs: analyzers ask the same few questions of every node."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


class Analyzer(Protocol):
    """SRE knowledge about one fault kind, as code: looks at one node, returns a finding or None.

    ``explains`` names the kinds this one causes on the same node (a load spike saturates the CPU,
    a leak ends in OOM kills): when both are found, the cause is the diagnosis.
    """

    kind: str
    explains: tuple[str, ...]

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """The finding on ``view``'s node, or None when this kind does not fit."""
        ...


def z_confidence(z: float) -> float:
    """0 at 3 sigmas, 1 at 30, growing with log z between them."""
    z = abs(z)
    if z <= Z_NOTICED:
        return 0.0
    return min(1.0, math.log(z / Z_NOTICED) / math.log(Z_CERTAIN / Z_NOTICED))


def level_confidence(level: float, limit: float, full: float = 100.0) -> float:
    """0.5 at ``limit``, growing linearly to 1 at ``full``: past the limit is already a fault."""
    if level < limit:
        return 0.0
    return min(1.0, 0.5 + 0.5 * (level - limit) / max(full - limit, 1e-9))


def describe(d: Deviation) -> str:
    """``cpu.usage_user up 12.0 -> 95.0 (z=+41)``: one line of evidence."""
    return f"{d.metric} {d.direction} {d.before_mean:.3g} -> {d.window_mean:.3g} (z={d.z:+.3g})"


def finding(
    kind: str,
    view: NodeView,
    signals: list[Deviation],
    *,
    scale: float = 1.0,
    culprit: str | None = None,
    change_id: str | None = None,
    base: float | None = None,
) -> Finding:
    """A finding whose confidence follows its strongest signal, boosted by each extra one.

    ``base`` replaces the strongest signal's z confidence for kinds judged by a level.
    """
    strongest = base if base is not None else max(z_confidence(d.z) for d in signals)
    support = 1.0 - 0.5 ** (len(signals) - 1)  # corroborating signals close half the gap each
    confidence = scale * (strongest + (1.0 - strongest) * support * 0.5)
    return Finding(
        kind,
        round(min(confidence, 1.0), 3),
        view.node.node_id,
        culprit,
        change_id,
        tuple(describe(d) for d in signals[:4]),
        min(d.onset_share for d in signals),
    )
