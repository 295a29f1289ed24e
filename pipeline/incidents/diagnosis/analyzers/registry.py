"""Every analyzer by the kind it names: the diagnosis asks each of them about each node."""

from __future__ import annotations

from dataclasses import replace

from pipeline.incidents.diagnosis.analyzers.app_errors import AppErrors
from pipeline.incidents.diagnosis.analyzers.bad_change import BadChange
from pipeline.incidents.diagnosis.analyzers.base import Analyzer, Finding, NodeView
from pipeline.incidents.diagnosis.analyzers.cpu_saturation import CpuSaturation
from pipeline.incidents.diagnosis.analyzers.disk_full import DiskFull
from pipeline.incidents.diagnosis.analyzers.fd_exhaustion import FdExhaustion
from pipeline.incidents.diagnosis.analyzers.io_saturation import IoSaturation
from pipeline.incidents.diagnosis.analyzers.load_spike import LoadSpike
from pipeline.incidents.diagnosis.analyzers.memory_leak import MemoryLeak
from pipeline.incidents.diagnosis.analyzers.memory_pressure import MemoryPressure
from pipeline.incidents.diagnosis.analyzers.network_degradation import NetworkDegradation
from pipeline.incidents.diagnosis.analyzers.process_crash import ProcessCrash
from pipeline.incidents.diagnosis.evidence import Evidence

UNKNOWN = "unknown"

ANALYZERS: dict[str, Analyzer] = {
    a.kind: a
    for a in (
        CpuSaturation(),
        MemoryLeak(),
        MemoryPressure(),
        DiskFull(),
        IoSaturation(),
        NetworkDegradation(),
        LoadSpike(),
        ProcessCrash(),
        FdExhaustion(),
        BadChange(),
        AppErrors(),
    )
}
CORE_KINDS: tuple[str, ...] = (*ANALYZERS, UNKNOWN)


# A kind explained by another found on the same node counts half: the cause is the diagnosis.
EXPLAINED_FACTOR = 0.5
# The fault that opened the incident shows first; one that began only at the window's end counts
# half (a consequence, or a second fault overlapping the first).
LATE_ONSET_FACTOR = 0.5


def analyze_many(evidence: Evidence, views: list[NodeView]) -> list[Finding]:
    """Every analyzer's findings on every node, weighed by cause and onset, most confident first."""
    found = [
        f
        for view in views
        for analyzer in ANALYZERS.values()
        if (f := analyzer.analyze_one(evidence, view)) is not None and f.confidence > 0
    ]
    weighed = [replace(f, confidence=round(_weight(f, found) * f.confidence, 3)) for f in found]
    return sorted(weighed, key=lambda f: (-f.confidence, f.kind, f.node_id))


def _weight(finding: Finding, found: list[Finding]) -> float:
    explained = any(
        finding.kind in ANALYZERS[other.kind].explains
        for other in found
        if other.node_id == finding.node_id and other.confidence >= 0.5
    )
    late = 1.0 - (1.0 - LATE_ONSET_FACTOR) * finding.onset_share
    return (EXPLAINED_FACTOR if explained else 1.0) * late
