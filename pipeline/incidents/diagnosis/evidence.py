"""An incident's evidence: per node, its metric series split into the window and before it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from pipeline.incidents.diagnosis.window import find_window

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ChangeRecord:
    """A change (deploy, config, package, kernel) linked to the incident."""

    change_id: str
    kind: str
    at: datetime
    role: str | None = None
    node_ids: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class NodeEvidence:
    """One node's series around the incident: ``series[metric]`` aligned with ``times_s``.

    ``in_window`` marks the rows inside the incident window; the rows before it are the baseline.
    """

    node_id: str
    labels: Mapping[str, str]
    times_s: FloatArray
    series: Mapping[str, FloatArray]
    in_window: npt.NDArray[np.bool_]
    contributors: tuple[str, ...] = ()
    # Derived figures computed once per node (its deviations), shared by every analyzer.
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def before(self, metric: str) -> FloatArray:
        """Finite values of ``metric`` before the window (empty when the metric is absent)."""
        return _finite(self.series.get(metric), self.times_s < self.window_start_s)

    def during(self, metric: str) -> FloatArray:
        """Finite values of ``metric`` inside the window."""
        return _finite(self.series.get(metric), self.in_window)

    @property
    def window_start_s(self) -> float:
        """Time of the first window row (the end of the series when the window is empty)."""
        rows = self.times_s[self.in_window]
        return float(rows[0]) if rows.size else float(self.times_s[-1]) + 1.0

    def metrics(self) -> list[str]:
        """Metric names of this node, sorted."""
        return sorted(self.series)


@dataclass(frozen=True)
class Evidence:
    """Everything the diagnosis reads about one incident, with no I/O behind it."""

    incident_id: str
    nodes: tuple[NodeEvidence, ...]
    changes: tuple[ChangeRecord, ...] = ()
    text: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    # Verdicts about the whole incident (such as whether a change's nodes deviate alike).
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def node(self, node_id: str) -> NodeEvidence:
        """The evidence of ``node_id``; raises KeyError when it is not part of the incident."""
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(node_id)


def node_evidence(
    node_id: str,
    labels: Mapping[str, str],
    times_s: FloatArray,
    series: Mapping[str, FloatArray],
    window_s: tuple[float, float] | None,
) -> NodeEvidence:
    """Build one node's evidence; without ``window_s`` the window is found in the data.

    Parameters
    ----------
    window_s
        Incident window as epoch seconds, start inclusive and end exclusive.
    """
    if window_s is None:
        window_s = find_window(times_s, series)
    start_s, end_s = window_s
    in_window = (times_s >= start_s) & (times_s < end_s)
    return NodeEvidence(node_id, dict(labels), times_s, dict(series), in_window)


def _finite(values: FloatArray | None, rows: npt.NDArray[np.bool_]) -> FloatArray:
    if values is None:
        return np.empty(0)
    picked = values[rows]
    return picked[np.isfinite(picked)]
