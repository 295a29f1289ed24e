"""Peer comparison: each node's series against its cohort's median/MAD, round by round (pure).

Nodes that share a label (``role=web``) should move together. Per round, every metric's cohort
median and MAD give each node a robust z, ``(x - median) / (1.4826 * MAD)``: a node whose z stays
past ``z_threshold`` for ``persist_rounds`` rounds is a *peer* deviation (Datadog's MAD outlier
monitor, Elastic's population jobs). A shift of the whole role leaves every z small; the cohort's
median itself is forecast as a line in time (:mod:`pipeline.detect.cohort_level`: the daily load
the cohort follows is no jump, even across rounds it could not be compared), and a lasting step
away from it, wider than the median's own sampling error, is one *fleet* deviation for the
cohort, not one per node; a step that recurs at the same hour of day (a nightly job on every
node) is learned as the host's are. State is bounded: ``max_open_rounds`` rounds of
``max_nodes`` × ``max_metrics`` values per cohort, ten floats per metric's line, 24 hour slots
per cohort, and a few floats per node-metric past half the threshold.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from pipeline.detect.cohort_level import CohortLevel
from pipeline.detect.robust import SeriesParams
from pipeline.detect.schedule import HourSlots

Floats = npt.NDArray[np.float64]
MAD_TO_SIGMA = 1.4826  # MAD of a normal sample × this = its standard deviation
# A normal sample's median varies 1.2533 σ/√n; the fleet scale is a mean absolute residual
# (0.7979 σ), so the median's own sampling error in that unit is 1.2533 × 0.7979 σ/√n.
MEDIAN_SE = 1.2533 * 0.7979
# The host series' schedule rule (decay, minimum count), for the cohort's fleet verdicts too.
SCHEDULE_RULE = SeriesParams().watch_vector


@dataclass(frozen=True)
class PeerParams:
    """Knobs of the peer stage; one configuration for every cohort."""

    z_threshold: float = 5.0
    persist_rounds: int = 3
    min_peers: int = 5
    # Relative floor of the spread: peers that agree to within 1 % are not told apart further.
    relative_floor: float = 0.01
    fleet_alpha: float = 0.05
    fleet_warmup: int = 20
    max_nodes: int = 1024
    max_metrics: int = 256
    # Rounds held open for nodes read late (another partition, a slower worker); beyond, the
    # oldest closes with whoever reported.
    max_open_rounds: int = 8
    # The round's length: the fleet forecast's horizon is counted in rounds since last seen.
    round_s: float = 60.0


@dataclass(frozen=True)
class PeerVerdict:
    """One deviation found when a round closed: a node against its peers, or the whole cohort."""

    kind: Literal["peer", "fleet"]
    cohort: str
    node_id: str | None  # None for a fleet deviation
    metric: str
    round_s: float
    observed: float
    expected: float
    spread: float
    z: float


@dataclass
class _Tracker:
    """Consecutive rounds past the threshold, and whether this episode was reported."""

    streak: int = 0
    reported: bool = False

    def step(self, past: bool, back: bool, persist: int) -> bool:
        """Count a round; True once per episode, when the streak reaches ``persist``."""
        if back:
            self.streak, self.reported = 0, False
            return False
        self.streak = self.streak + 1 if past else 0
        if self.streak >= persist and not self.reported:
            self.reported = True
            return True
        return False


def _matrix(
    values: dict[str, tuple[tuple[str, ...], Floats]], limit: int
) -> tuple[list[str], list[str], Floats]:
    """Nodes × metrics of one round (NaN where a node lacks a metric), at most ``limit`` metrics.

    Nodes of one role usually send the same metrics in the same order: then the matrix is one
    stack of their arrays, with no per-value Python work.
    """
    nodes = list(values)
    layouts = {names for names, _ in values.values()}
    if len(layouts) == 1:
        (names,) = layouts
        return nodes, list(names), np.vstack([v for _, v in values.values()])
    column: dict[str, int] = {}
    for names in layouts:
        for name in names:
            if len(column) < limit:
                column.setdefault(name, len(column))
    matrix = np.full((len(nodes), len(column)), np.nan)
    for i, (names, array) in enumerate(values.values()):
        for name, value in zip(names, array.tolist(), strict=True):
            if name in column:
                matrix[i, column[name]] = value
    return nodes, list(column), matrix


class CohortModel:
    """The rounds of one cohort; :meth:`add` a node's round summary, verdicts come at round ends.

    Examples
    --------
    >>> model = CohortModel("role=web")
    >>> verdicts = []
    >>> for r in range(10):
    ...     for n in range(8):
    ...         drift = 10.0 * r if n == 0 else 0.0
    ...         verdicts += model.add(f"web-{n}", 60.0 * r, {"cpu.usage_user": 40.0 + n + drift})
    >>> [(v.kind, v.node_id) for v in verdicts]
    [('peer', 'web-0')]
    """

    def __init__(self, cohort: str, params: PeerParams | None = None) -> None:
        self.cohort = cohort
        self.params = params or PeerParams()
        # round → node → (metric names, values): a node's names are one tuple from round to round
        self.open: dict[float, dict[str, tuple[tuple[str, ...], Floats]]] = {}
        self.latest: OrderedDict[str, float] = OrderedDict()  # node → newest round it sent
        self.closed_s = -np.inf  # newest round closed
        self.trackers: dict[tuple[str, str], _Tracker] = {}
        self.fleet: OrderedDict[str, CohortLevel] = OrderedDict()
        self.fleet_trackers: dict[str, _Tracker] = {}  # metric → its episode, once judged
        # Hours of day the cohort's fleet verdicts recurred at: a nightly job on every batch
        # node is a step of the cohort, reported the first nights, then learned (192 bytes).
        self.schedule = HourSlots(SCHEDULE_RULE)
        self.late = 0

    def add(self, node_id: str, round_s: float, metrics: dict[str, float]) -> list[PeerVerdict]:
        """Record ``node_id``'s values of round ``round_s``; verdicts of the rounds now complete.

        A round closes once a node moved past it and every node that sent the previous round has
        sent it too (partitions are read at different paces), or when more than
        ``max_open_rounds`` are open. A summary of a closed round is counted in :attr:`late`.
        """
        if round_s <= self.closed_s:
            self.late += 1
            return []
        values = self.open.setdefault(round_s, {})
        if node_id in values or len(values) < self.params.max_nodes:
            names = tuple(metrics)[: self.params.max_metrics]
            values[node_id] = (names, np.fromiter(metrics.values(), float, len(names)))
        self.latest[node_id] = max(self.latest.get(node_id, round_s), round_s)
        self.latest.move_to_end(node_id)
        if len(self.latest) > self.params.max_nodes:
            self.latest.popitem(last=False)
        return self._close_ready()

    def _close_ready(self) -> list[PeerVerdict]:
        verdicts: list[PeerVerdict] = []
        # The newest round stays open until some node moves past it; an older one closes once
        # no node that sent the last closed round still owes it (silent nodes owe nothing).
        while len(self.open) >= 2:
            oldest = min(self.open)
            holding = any(self.closed_s <= seen < oldest for seen in self.latest.values())
            if holding and len(self.open) <= self.params.max_open_rounds:
                break
            verdicts += self._close_round(oldest)
        return verdicts

    def close(self) -> list[PeerVerdict]:
        """Close every open round, oldest first (at shutdown, or when the cohort went quiet)."""
        verdicts: list[PeerVerdict] = []
        while self.open:
            verdicts += self._close_round(min(self.open))
        return verdicts

    def _close_round(self, round_s: float) -> list[PeerVerdict]:
        """Compare every node of ``round_s`` with its peers, and the cohort with its past."""
        nodes, names, matrix = _matrix(self.open.pop(round_s), self.params.max_metrics)
        self.closed_s = round_s
        present = np.isfinite(matrix)
        enough = present.sum(axis=0) >= self.params.min_peers
        if not enough.any():
            return []
        gaps = not present.all()
        median = (np.nanmedian if gaps else np.median)(matrix, axis=0)
        mad = (np.nanmedian if gaps else np.median)(np.abs(matrix - median), axis=0)
        floor = np.maximum(self.params.relative_floor * np.abs(median), 1e-9)
        spread = np.maximum(MAD_TO_SIGMA * mad, floor)
        z = np.where(present & enough, (matrix - median) / spread, 0.0)
        verdicts = self._peers(round_s, nodes, names, matrix, z, median, spread)
        # The median of n peers spread this much is only known to ~1.25 spread / sqrt(n): a
        # cohort's median moving less than that may be which peers reported, not the cohort.
        sampling = MEDIAN_SE * spread / np.sqrt(np.maximum(present.sum(axis=0), 1))
        for j in np.flatnonzero(enough).tolist():
            verdicts += self._fleet(names[j], round_s, float(median[j]), float(sampling[j]))
        return verdicts

    def _peers(
        self,
        round_s: float,
        nodes: list[str],
        names: list[str],
        matrix: Floats,
        z: Floats,
        median: Floats,
        spread: Floats,
    ) -> list[PeerVerdict]:
        """Step the node-metrics past half the threshold; others end their episode (freed)."""
        found = []
        threshold = self.params.z_threshold
        kept: dict[tuple[str, str], _Tracker] = {}
        for i, j in np.argwhere(np.abs(z) >= threshold / 2).tolist():
            key = (nodes[i], names[j])
            tracker = kept[key] = self.trackers.get(key) or _Tracker()
            if tracker.step(abs(z[i, j]) >= threshold, False, self.params.persist_rounds):
                found.append(
                    PeerVerdict(
                        "peer",
                        self.cohort,
                        nodes[i],
                        names[j],
                        round_s,
                        float(matrix[i, j]),
                        float(median[j]),
                        float(spread[j]),
                        float(z[i, j]),
                    )
                )
        self.trackers = kept
        return found

    def _fleet(
        self, metric: str, round_s: float, median: float, sampling: float
    ) -> list[PeerVerdict]:
        """Forecast the cohort median; a lasting step from it is one deviation of the cohort.

        ``sampling`` is the median's own uncertainty from the spread across the cohort: the
        band is never narrower.
        """
        p = self.params
        level = self.fleet.get(metric)
        if level is None or level.stale(round_s, p.round_s, p.fleet_alpha):
            level = self.fleet[metric] = CohortLevel()
            self.fleet_trackers.pop(metric, None)
            if len(self.fleet) > p.max_metrics:
                dropped, _ = self.fleet.popitem(last=False)
                self.fleet_trackers.pop(dropped, None)
        self.fleet.move_to_end(metric)
        expected, widen = level.forecast(round_s, p.round_s, p.fleet_alpha)
        floor = max(p.relative_floor * abs(expected), sampling, 1e-9)
        scale = max(level.scale, floor) * widen
        z = (median - expected) / scale
        found = []
        warming = level.rounds < p.fleet_warmup
        if not warming:
            tracker = self.fleet_trackers.setdefault(metric, _Tracker())
            past, back = abs(z) >= p.z_threshold, abs(z) < p.z_threshold / 2
            stepped = tracker.step(past, back and tracker.reported, p.persist_rounds)
            if stepped and not self.schedule.recurrent(round_s):
                found.append(
                    PeerVerdict(
                        "fleet", self.cohort, None, metric, round_s, median, expected, scale, z
                    )
                )
        level.learn(median, expected, widen, round_s, p.round_s, p.fleet_alpha, floor, warming)
        return found
