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
# half (a consequence, or a second fault overlapping the first). Late is judged from the first
# finding's onset, not the window's start: the window opens at the detector's window boundary,
# which can be most of a window before the fault (a CPU hog starting 9 s into a 10 s window read
# as "late" against nothing earlier, and its confidence fell from 0.6 to 0.35).
LATE_ONSET_FACTOR = 0.5


def analyze_many(evidence: Evidence, views: list[NodeView]) -> list[Finding]:
    """Every analyzer's findings on every node, weighed by cause and onset, most confident first."""
    found = [
        f
        for view in views
        for analyzer in ANALYZERS.values()
        if (f := analyzer.analyze_one(evidence, view)) is not None and f.confidence > 0
    ]
    first = min((f.onset_share for f in found), default=0.0)
    weighed = [
        replace(f, confidence=round(_weight(f, found, first) * f.confidence, 3)) for f in found
    ]
    return sorted(weighed, key=lambda f: (-f.confidence, f.kind, f.node_id))


def _weight(finding: Finding, found: list[Finding], first_onset: float) -> float:
    explained = any(
        finding.kind in ANALYZERS[other.kind].explains
        for other in found
        if other.node_id == finding.node_id and other.confidence >= 0.5
    )
    # How far into what was left of the window after the first finding began this one began.
    lateness = (finding.onset_share - first_onset) / max(1.0 - first_onset, 1e-9)
    late = 1.0 - (1.0 - LATE_ONSET_FACTOR) * lateness
    return (EXPLAINED_FACTOR if explained else 1.0) * late
