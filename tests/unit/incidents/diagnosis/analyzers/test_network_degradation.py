from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.network_degradation import NetworkDegradation
from tests.unit.incidents.diagnosis.conftest import view_of


def test_retransmissions_and_drops_name_the_interface() -> None:
    evidence, view = view_of({"net.eth0.rx_drops_per_s": 40, "net.tcp_retrans_percent": 6})
    found = NetworkDegradation().analyze_one(evidence, view)
    assert found is not None and found.culprit == "eth0"


def test_fewer_retransmissions_are_not_degradation() -> None:
    evidence, view = view_of({"net.tcp_retrans_percent": 0.0})
    assert NetworkDegradation().analyze_one(evidence, view) is None
