from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.cpu_saturation import CpuSaturation
from tests.unit.incidents.diagnosis.conftest import view_of


def test_busy_cpu_names_the_top_process() -> None:
    evidence, view = view_of(
        {"cpu.usage_idle": 4, "cpu.usage_user": 90, "proc.burner.cpu_percent": 98}
    )
    found = CpuSaturation().analyze_one(evidence, view)
    assert found is not None and found.kind == "cpu_saturation"
    assert found.culprit == "burner"
    assert any("cpu.usage_idle down" in line for line in found.evidence)


def test_cpu_rising_but_not_saturated_is_not_saturation() -> None:
    evidence, view = view_of({"cpu.usage_idle": 45, "cpu.usage_user": 50})
    assert CpuSaturation().analyze_one(evidence, view) is None


def test_idle_cpu_falling_upward_is_never_saturation() -> None:
    # Direction matters: a CPU that went quiet (user down, idle up) is not saturated.
    evidence, view = view_of({"cpu.usage_idle": 98, "cpu.usage_user": 1})
    assert CpuSaturation().analyze_one(evidence, view) is None


def test_throttled_unit_counts_as_cpu_shortage() -> None:
    evidence, view = view_of({"unit.app.throttled_percent": 60})
    found = CpuSaturation().analyze_one(evidence, view)
    assert found is not None and found.confidence > 0
