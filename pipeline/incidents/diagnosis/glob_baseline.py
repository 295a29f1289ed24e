"""The old way, scored for comparison: the metric-glob runbook picked by which metrics deviated.

These are the rules of ``deploy/runbooks/default.yaml`` before diagnosis (main at 55653ad), in
order, each read as the fault kind its action implies: ``cpu.*`` -> stop_process (CPU
saturation), ``mem.*`` -> drop_caches (memory pressure), ``disk.*.used_percent`` -> clean_files
(disk full), ``net.*`` on web nodes -> restart nginx (network). Direction was ignored, as it was.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from pipeline.incidents.diagnosis.analyzers.base import Z_NOTICED, NodeView
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.models import Diagnosis

OLD_RULES: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("cpu.*", "cpu_saturation", {}),
    ("mem.*", "memory_pressure", {}),
    ("disk.*.used_percent", "disk_full", {}),
    ("net.*", "network_degradation", {"role": "web"}),
)


def glob_diagnose_one(evidence: Evidence) -> Diagnosis:
    """What the glob runbook would have done, read as a diagnosis.

    The node with most metrics past three sigmas is the incident (as the detector would have
    flagged them); the first rule matching one of its metrics and labels names the kind.
    """
    views = sorted(
        (NodeView.of(n) for n in evidence.nodes),
        key=lambda v: -sum(abs(d.z) >= Z_NOTICED for d in v.deviations.values()),
    )
    top = views[0]
    moved = [m for m, d in top.deviations.items() if abs(d.z) >= Z_NOTICED]
    kind = next(
        (
            kind
            for glob, kind, labels in OLD_RULES
            if any(fnmatch.fnmatchcase(m, glob) for m in moved)
            and all(top.node.labels.get(k) == v for k, v in labels.items())
        ),
        "unknown",
    )
    return Diagnosis(
        kind=kind,
        confidence=0.0 if kind == "unknown" else 1.0,
        ranked_nodes=[v.node.node_id for v in views][:10],
    )
