from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.disk_full import DiskFull
from tests.unit.incidents.diagnosis.conftest import view_of


def test_filling_disk_names_the_writer() -> None:
    evidence, view = view_of(
        {"disk.root.used_percent": lambda p: 50 + 48 * p, "proc.logger.write_bytes_per_s": 8e7}
    )
    found = DiskFull().analyze_one(evidence, view)
    assert found is not None and found.culprit == "logger"


def test_without_telemetry_the_mount_is_the_culprit() -> None:
    evidence, view = view_of({"disk.root.used_percent": lambda p: 50 + 48 * p})
    found = DiskFull().analyze_one(evidence, view)
    assert found is not None and found.culprit == "root"


def test_filling_towards_full_within_hours_is_full_before_ninety_percent() -> None:
    # 50 -> 70 % in two minutes: full a few minutes later, long before anyone could act.
    evidence, view = view_of({"disk.root.used_percent": lambda p: 50 + 20 * p})
    found = DiskFull().analyze_one(evidence, view)
    assert found is not None and found.kind == "disk_full"


def test_a_step_that_stays_below_ninety_percent_is_not_full() -> None:
    # A big file copied in: 50 -> 60 % at once, then flat; it rose, but nothing is filling it.
    evidence, view = view_of({"disk.root.used_percent": lambda p: 60 + 0.01 * p})
    assert view.rising("disk.*.used_percent", z_min=2.0) is not None
    assert DiskFull().analyze_one(evidence, view) is None


def test_cleaned_disk_is_not_full() -> None:
    evidence, view = view_of({"disk.root.used_percent": 10})
    assert DiskFull().analyze_one(evidence, view) is None
