from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.load_spike import LoadSpike
from tests.unit.incidents.diagnosis.conftest import view_of


def test_more_traffic_and_more_cpu_is_a_load_spike() -> None:
    evidence, view = view_of({"net.eth0.rx_bytes_per_s": 4e6, "cpu.usage_user": 55})
    assert LoadSpike().analyze_one(evidence, view) is not None


def test_cpu_without_traffic_is_not_a_load_spike() -> None:
    evidence, view = view_of({"cpu.usage_user": 55})
    assert LoadSpike().analyze_one(evidence, view) is None
