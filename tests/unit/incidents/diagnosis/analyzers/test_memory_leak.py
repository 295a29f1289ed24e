from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.memory_leak import MemoryLeak
from tests.unit.incidents.diagnosis.conftest import view_of


def test_steady_climb_is_a_leak_of_the_growing_process() -> None:
    evidence, view = view_of(
        {
            "mem.used_percent": lambda p: 40 + 50 * p,
            "proc.leaky.rss_bytes": lambda p: 1e8 + 6e9 * p,
        }
    )
    found = MemoryLeak().analyze_one(evidence, view)
    assert found is not None and found.culprit == "leaky"


def test_one_jump_then_flat_is_not_a_leak() -> None:
    evidence, view = view_of({"mem.used_percent": 85})
    assert MemoryLeak().analyze_one(evidence, view) is None


def test_a_climb_ended_by_a_restart_is_still_a_leak() -> None:
    # Two thirds of the window the process grows; then it is restarted and memory falls back.
    # Over the whole window the climb-and-drop correlates with time at ~0.4; up to the peak, ~1.
    def used(p: float) -> float:
        return 40 + 75 * p if p <= 0.67 else 41.0

    def rss(p: float) -> float:
        return 1e8 + 9e9 * p if p <= 0.67 else 1.2e8

    evidence, view = view_of({"mem.used_percent": used, "proc.leaky.rss_bytes": rss})
    found = MemoryLeak().analyze_one(evidence, view)
    assert found is not None and found.culprit == "leaky"
