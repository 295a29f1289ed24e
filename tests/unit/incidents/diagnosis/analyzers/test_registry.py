from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import NodeView
from pipeline.incidents.diagnosis.analyzers.registry import ANALYZERS, CORE_KINDS, analyze_many
from tests.unit.incidents.diagnosis.conftest import ROWS, WINDOW_ROWS, make_evidence, make_node


def test_every_core_kind_has_one_analyzer_and_explains_only_core_kinds() -> None:
    assert set(CORE_KINDS) == {*ANALYZERS, "unknown"} and len(ANALYZERS) == 11
    for analyzer in ANALYZERS.values():
        assert set(analyzer.explains) <= set(ANALYZERS) - {analyzer.kind}


def test_a_cause_outranks_the_symptom_it_explains() -> None:
    # OOM kills restart the unit: process_crash fires too, but memory pressure explains it.
    kinds = _kinds_found(
        {
            "mem.oom_kills_per_s": 0.3,
            "unit.report.restarts_per_s": 0.05,
            "mem.swap_used_percent": 20,
        }
    )
    assert kinds[0] == "memory_pressure" and "process_crash" in kinds


def test_a_fault_starting_late_in_the_window_counts_less() -> None:
    early = make_node({"net.tcp_retrans_percent": 6.0}, "early")
    late = make_node(None, "late", seed=1)
    column = late.series["net.tcp_retrans_percent"]
    column[ROWS - WINDOW_ROWS // 4 :] = 6.0 + np.zeros(WINDOW_ROWS // 4)
    views = [NodeView.of(early), NodeView.of(late)]
    found = {f.node_id: f.confidence for f in analyze_many(make_evidence(early, late), views)}
    assert found["early"] > found["late"] > 0


def test_a_fault_alone_counts_in_full_however_late_in_the_window_it_began() -> None:
    # The CI's real CPU hog: the incident opened at the detector's window boundary, 9 s before the
    # hog spun (onset 0.82 of the window). Nothing began earlier, so nothing came first: its 0.6
    # was weighed down to 0.35 and the runbook (0.5) never stopped the hog.
    late = make_node(None, "late")
    late.series["net.tcp_retrans_percent"][ROWS - WINDOW_ROWS // 4 :] = 6.0
    alone = analyze_many(make_evidence(late), [NodeView.of(late)])
    early = make_node({"net.tcp_retrans_percent": 6.0}, "late")
    from_the_start = analyze_many(make_evidence(early), [NodeView.of(early)])
    assert [(f.kind, f.confidence) for f in alone] == [
        (f.kind, f.confidence) for f in from_the_start
    ]


def test_retransmits_of_a_host_out_of_cpu_are_the_saturation_s() -> None:
    # A real CPU hog's host: loopback peers retransmitted (0 -> 0.3 segments/s, a hundred
    # sigmas, here a material 2 % of the segments) while the hog took every core. The
    # saturation is the fault; the losses follow.
    kinds = _kinds_found(
        {
            "cpu.usage_idle": 2,
            "cpu.usage_user": 93,
            "proc.hog.cpu_percent": 190,
            "net.tcp_retrans_segs_per_s": 0.3,
            "net.tcp_retrans_percent": 2.0,
        }
    )
    assert kinds[0] == "cpu_saturation" and "network_degradation" in kinds


def _kinds_found(window: dict[str, float]) -> list[str]:
    """The kinds found on one node whose metrics take ``window``'s values, most confident first."""
    node = make_node(window)
    return [f.kind for f in analyze_many(make_evidence(node), [NodeView.of(node)])]
