from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import NodeView
from pipeline.incidents.diagnosis.analyzers.memory_leak import MemoryLeak
from pipeline.incidents.diagnosis.evidence import node_evidence
from tests.unit.incidents.diagnosis.conftest import make_evidence, view_of


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


def test_a_leak_that_began_late_in_a_long_window_is_judged_from_its_onset() -> None:
    # The incident opened (or reopened) 50 rounds before the leak began: over the whole window
    # the flat-then-climbing memory correlates with time at ~0.6; from the climb's onset, ~1.
    rng = np.random.default_rng(3)
    baseline, flat, climb = 40, 50, 12
    rows = baseline + flat + climb
    leak = np.concatenate([np.zeros(baseline + flat), np.linspace(3e8, 4e9, climb)])
    series = {
        "proc.java.rss_bytes": 4e9 + rng.normal(0, 1e6, rows) + leak,
        "mem.used_percent": 20 + rng.normal(0, 0.5, rows) + 100 * leak / 32e9,
    }
    times_s = 10.0 * np.arange(rows)
    node = node_evidence("n-1", {}, times_s, series, (10.0 * baseline, 10.0 * rows))
    found = MemoryLeak().analyze_one(make_evidence(node), NodeView.of(node))
    assert found is not None and found.culprit == "java"
