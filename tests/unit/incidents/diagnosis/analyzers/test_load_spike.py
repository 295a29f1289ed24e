from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import NodeView
from pipeline.incidents.diagnosis.analyzers.load_spike import LoadSpike
from tests.unit.incidents.diagnosis.conftest import (
    ROWS,
    WINDOW_ROWS,
    make_evidence,
    make_node,
    view_of,
)


def test_more_traffic_and_more_cpu_is_a_load_spike() -> None:
    evidence, view = view_of({"net.eth0.rx_bytes_per_s": 4e6, "cpu.usage_user": 55})
    assert LoadSpike().analyze_one(evidence, view) is not None


def test_cpu_without_traffic_is_not_a_load_spike() -> None:
    evidence, view = view_of({"cpu.usage_user": 55})
    assert LoadSpike().analyze_one(evidence, view) is None


def test_a_fork_storm_is_a_load_spike_naming_the_forking_process() -> None:
    evidence, view = view_of(
        {
            "cpu.usage_user": 70,
            "processes.total": 900,
            "proc.spawner.count": 700,
            "load.load1": 20,
        }
    )
    found = LoadSpike().analyze_one(evidence, view)
    assert found is not None and found.culprit == "spawner"


def test_a_process_or_two_more_is_no_storm() -> None:
    # What a CPU hog's 2-CPU host looked like in a real run: the hog's CPU rose, and a broker and
    # a shell's sleep started meanwhile (counts that sat still, so many sigmas off).
    before = {"proc.java.count": 2.0, "proc.sleep.count": 0.0, "processes.total": 180.0}
    during = {"proc.java.count": 3.0, "proc.sleep.count": 1.0, "processes.total": 190.0}
    node = make_node({"cpu.usage_user": 95, "proc.hog.cpu_percent": 190} | during)
    for metric, level in before.items():
        node.series[metric][: ROWS - WINDOW_ROWS] = level
    node.series["cpu.count"] = np.full(ROWS, 2.0)
    assert min(d.z for m, d in NodeView.of(node).deviations.items() if m in before) >= 3
    assert LoadSpike().analyze_one(make_evidence(node), NodeView.of(node)) is None
