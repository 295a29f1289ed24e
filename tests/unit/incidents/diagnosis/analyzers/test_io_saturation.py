from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.io_saturation import IoSaturation
from tests.unit.incidents.diagnosis.conftest import view_of


def test_busy_device_with_iowait_is_saturated() -> None:
    evidence, view = view_of(
        {"diskio.sda.busy_percent": 97, "cpu.usage_iowait": 35, "proc.backup.read_bytes_per_s": 2e8}
    )
    found = IoSaturation().analyze_one(evidence, view)
    assert found is not None and found.culprit == "backup"


def test_busy_device_nobody_waits_on_is_not_saturation() -> None:
    evidence, view = view_of({"diskio.sda.busy_percent": 97})
    assert IoSaturation().analyze_one(evidence, view) is None
