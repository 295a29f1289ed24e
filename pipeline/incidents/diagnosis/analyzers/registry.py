"""Every analyzer by the kind it names: the diagnosis asks each of them about each node."""

from __future__ import annotations

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


def analyze_many(evidence: Evidence, views: list[NodeView]) -> list[Finding]:
    """Every analyzer's findings on every node, most confident first."""
    found = [
        f
        for view in views
        for analyzer in ANALYZERS.values()
        if (f := analyzer.analyze_one(evidence, view)) is not None and f.confidence > 0
    ]
    return sorted(found, key=lambda f: (-f.confidence, f.kind, f.node_id))
