"""Which process or unit on a node grew a resource most: the culprit an analyzer names."""

from __future__ import annotations

import fnmatch

from pipeline.incidents.diagnosis.evidence import NodeEvidence
from pipeline.models import CULPRIT_PREFIXES

# Culprit telemetry from the agent (README "Culprit metrics"): `proc.<comm>.<field>` and
# `unit.<unit>.<field>`, top-N per round, so a process may appear only once it misbehaves.
Z_GREW = 3.0
RELATIVE_NOISE_FLOOR = 0.01


def top_culprit(node: NodeEvidence, *fields: str) -> str | None:
    """The ``<comm>``/``<unit>`` whose first field of ``fields`` (in order) grew most.

    A series absent before the window (a process that entered the top-N when it misbehaved)
    grew from zero. Fields are tried one at a time: bytes and percents are never compared. For a
    field both have (``cpu_percent``), a process is named before a unit: a unit sums its
    processes, so it always grew at least as much, and ``stop_process`` needs the process (the
    owning unit is found from it, :mod:`owner`).
    """
    for field in fields:
        for prefix in CULPRIT_PREFIXES:
            grown = [
                (growth, metric)
                for metric in node.series
                if fnmatch.fnmatchcase(metric, f"{prefix}*.{field}")
                and (growth := _growth(node, metric)) > 0
            ]
            if grown:
                return instance_of(max(grown)[1])
    return None


def instance_of(metric: str) -> str:
    """``proc.gunicorn.cpu_percent`` -> ``gunicorn``."""
    return metric.split(".", 1)[1].rsplit(".", 1)[0]


def _growth(node: NodeEvidence, metric: str) -> float:
    """How much ``metric`` rose in the window, or 0 when within its baseline noise."""
    before, during = node.before(metric), node.during(metric)
    if during.size == 0:
        return 0.0
    level = float(before.mean()) if before.size else 0.0
    growth = float(during.mean()) - level
    if before.size >= 2:
        noise = max(float(before.std()), RELATIVE_NOISE_FLOOR * abs(level), 1e-9)
        return growth if growth >= Z_GREW * noise else 0.0
    return growth
