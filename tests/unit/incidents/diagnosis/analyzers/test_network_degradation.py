from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import NodeView
from pipeline.incidents.diagnosis.analyzers.network_degradation import NetworkDegradation
from pipeline.incidents.diagnosis.evidence import node_evidence
from tests.unit.incidents.diagnosis.conftest import (
    STEP_S,
    WINDOW_START_S,
    make_evidence,
    make_node,
    view_of,
)


def test_retransmissions_and_drops_name_the_interface() -> None:
    evidence, view = view_of({"net.eth0.rx_drops_per_s": 40, "net.tcp_retrans_percent": 6})
    found = NetworkDegradation().analyze_one(evidence, view)
    assert found is not None and found.culprit == "eth0"


def test_fewer_retransmissions_are_not_degradation() -> None:
    evidence, view = view_of({"net.tcp_retrans_percent": 0.0})
    assert NetworkDegradation().analyze_one(evidence, view) is None


def test_a_few_retransmits_on_a_busy_stack_are_not_degradation() -> None:
    # What a loopback under load showed in CI: 0 -> 0.03 retransmits/s (z ~ 100) while the
    # share of segments retransmitted stayed far under a hundredth of a percent.
    blip = {"net.tcp_retrans_segs_per_s": 0.03, "net.tcp_retrans_percent": 0.004}
    evidence, view = view_of(blip)
    assert view.deviations["net.tcp_retrans_segs_per_s"].z > 30
    assert NetworkDegradation().analyze_one(evidence, view) is None


def test_the_same_retransmits_count_when_they_are_a_material_share() -> None:
    evidence, view = view_of({"net.tcp_retrans_segs_per_s": 0.03, "net.tcp_retrans_percent": 1.5})
    found = NetworkDegradation().analyze_one(evidence, view)
    assert found is not None
    assert any(line.startswith("net.tcp_retrans_segs_per_s") for line in found.evidence)


def test_without_the_share_sigmas_decide_alone() -> None:
    node = make_node({"net.tcp_retrans_segs_per_s": 0.03})
    series = {m: v for m, v in node.series.items() if m != "net.tcp_retrans_percent"}
    window_s = (WINDOW_START_S, float(node.times_s[-1]) + STEP_S)
    bare = node_evidence(node.node_id, node.labels, node.times_s, series, window_s)
    found = NetworkDegradation().analyze_one(make_evidence(bare), NodeView.of(bare))
    assert found is not None and found.evidence[0].startswith("net.tcp_retrans_segs_per_s")
