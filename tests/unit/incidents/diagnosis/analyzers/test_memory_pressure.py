from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.memory_pressure import MemoryPressure
from tests.unit.incidents.diagnosis.conftest import view_of


def test_swapping_and_faulting_is_pressure() -> None:
    evidence, view = view_of(
        {"mem.used_percent": 94, "mem.swap_used_percent": 30, "mem.major_faults_per_s": 200}
    )
    found = MemoryPressure().analyze_one(evidence, view)
    assert found is not None and len(found.evidence) == 3


def test_oom_kills_alone_are_pressure() -> None:
    evidence, view = view_of({"mem.oom_kills_per_s": 0.2})
    assert MemoryPressure().analyze_one(evidence, view) is not None


def test_memory_freed_is_not_pressure() -> None:
    evidence, view = view_of({"mem.used_percent": 20, "mem.swap_used_percent": 0.1})
    assert MemoryPressure().analyze_one(evidence, view) is None
