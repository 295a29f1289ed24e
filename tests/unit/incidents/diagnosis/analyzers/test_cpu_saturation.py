from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import NodeView
from pipeline.incidents.diagnosis.analyzers.cpu_saturation import CpuSaturation
from pipeline.incidents.diagnosis.evidence import Evidence
from tests.unit.incidents.diagnosis.conftest import make_evidence, make_node, view_of


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


def saturated_all_along(window: dict[str, float]) -> tuple[Evidence, NodeView]:
    """A 2-CPU host busy before and during the window (idle 0): idle has no room to fall."""
    node = make_node(window)
    node.series["cpu.usage_idle"][:] = 0.0
    node.series["cpu.count"] = np.full(node.times_s.size, 2.0)
    return make_evidence(node), NodeView.of(node)


def test_on_a_host_saturated_already_the_process_taking_a_core_is_the_cause() -> None:
    # proc.app goes from 15 to 16 % (many sigmas of a quiet process), the hog from 0 to a core.
    evidence, view = saturated_all_along({"proc.hog.cpu_percent": 100, "proc.app.cpu_percent": 40})
    found = CpuSaturation().analyze_one(evidence, view)
    assert found is not None and found.culprit == "hog"
    assert found.evidence[0].startswith("proc.hog.cpu_percent up")


def test_on_a_saturated_host_a_process_taking_a_little_more_is_no_saturation() -> None:
    evidence, view = saturated_all_along({"proc.hog.cpu_percent": 30})  # 15 % of two CPUs
    assert CpuSaturation().analyze_one(evidence, view) is None


def test_a_tiny_stall_is_many_sigmas_but_no_shortage() -> None:
    # Steal from 0 to 0.5 %: a large z on a quiet baseline, yet no CPU is missing.
    evidence, view = view_of({"cpu.usage_steal": 0.5})
    assert CpuSaturation().analyze_one(evidence, view) is None


def test_busy_is_judged_from_the_onset_not_over_minutes_before_it() -> None:
    # Another deviation opened the incident; the CPU filled only halfway through its window.
    evidence, view = view_of(
        {
            "cpu.usage_idle": lambda progress: 74.0 if progress <= 0.5 else 2.0,
            "cpu.usage_user": lambda progress: 20.0 if progress <= 0.5 else 93.0,
            "proc.hog.cpu_percent": lambda progress: 0.0 if progress <= 0.5 else 190.0,
        }
    )
    found = CpuSaturation().analyze_one(evidence, view)
    assert found is not None and found.culprit == "hog"
    assert found.confidence >= 0.8  # 98 % busy since the onset, not 62 % over the window


def test_busy_without_an_onset_is_judged_over_the_window_not_its_last_sample() -> None:
    # DBSherlock's CPU saturations: idle 50 -> 0 on a baseline noisy by 30 never stays three
    # sigmas past it (no onset), and the fault ends in the window's last rows (idle back at 65).
    node = make_node({"cpu.usage_idle": lambda progress: 0.0 if progress < 0.85 else 65.0})
    idle = node.series["cpu.usage_idle"]
    idle[: np.flatnonzero(node.in_window)[0]] = np.resize([20.0, 100.0], (~node.in_window).sum())
    view = NodeView.of(node)
    assert view.deviations["cpu.usage_idle"].onset_share == 1.0  # the shape meant: no onset
    found = CpuSaturation().analyze_one(make_evidence(node), view)
    assert found is not None and found.kind == "cpu_saturation"
