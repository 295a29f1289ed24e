"""Collectors against golden /proc and /sys snapshots (tests/fixtures/proc/<case>/)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.agent.collectors.base import Collector
from pipeline.agent.collectors.cpu import CpuCollector
from pipeline.agent.collectors.disk import DiskCollector
from pipeline.agent.collectors.load import LoadCollector
from pipeline.agent.collectors.memory import MemoryCollector
from pipeline.agent.collectors.net import NetCollector
from pipeline.agent.collectors.pressure import PressureCollector
from pipeline.agent.collectors.processes import ProcessCollector
from pipeline.agent.collectors.registry import COLLECTORS, HostPaths, build_collectors
from pipeline.agent.collectors.services import ServicesCollector
from pipeline.agent.collectors.temperature import TemperatureCollector
from pipeline.models import METRIC_NAME_PATTERN

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "proc"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.jsonl").is_file())


def _collectors(current: Path) -> list[Collector]:
    """Every collector, reading through the ``current`` symlink so steps can be switched."""

    def statvfs(path: str) -> SimpleNamespace:
        table = json.loads((current / "statvfs.json").read_text())
        if path not in table:
            raise FileNotFoundError(path)
        return SimpleNamespace(**table[path])

    def list_units() -> str | None:
        units = current / "systemctl.txt"
        return units.read_text() if units.exists() else None

    proc, sys = current / "proc", current / "sys"
    return [
        CpuCollector(proc, sys),
        LoadCollector(proc, sys),
        MemoryCollector(proc, sys),
        PressureCollector(proc, sys),
        DiskCollector(proc, sys, rootfs=Path("/"), statvfs=statvfs),
        NetCollector(proc, sys),
        ProcessCollector(proc, sys),
        ServicesCollector(
            proc,
            sys,
            run_root=current / "run",
            units=("nginx.service", "ssh.service"),
            refresh_s=0,
            list_units=list_units,
        ),
        TemperatureCollector(proc, sys),
    ]


def _run_case(case: str, tmp_path: Path) -> list[tuple[dict[str, float], dict[str, float]]]:
    current = tmp_path / "current"
    collectors = _collectors(current)
    results = []
    for line in (FIXTURES / case / "expected.jsonl").read_text().splitlines():
        step = json.loads(line)
        if current.is_symlink():
            current.unlink()
        current.symlink_to(FIXTURES / case / step["step"])
        got: dict[str, float] = {}
        for collector in collectors:
            got |= collector.collect(step["now_s"])
        results.append((got, step["metrics"]))
    return results


@pytest.mark.parametrize("case", CASES)
def test_golden_snapshot(case: str, tmp_path: Path) -> None:
    for got, expected in _run_case(case, tmp_path):
        assert sorted(got) == sorted(expected)
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, abs=1e-9), name


def test_counter_reset_gives_no_rate_then_recovers(tmp_path: Path) -> None:
    (t0, _), (t1, _), (t2, _) = _run_case("counter_reset", tmp_path)
    rate_names = [n for n in t2 if n.endswith(("_per_s", "_percent"))]
    assert rate_names, "the fixture must exercise rates"
    assert not [n for n in t1 if n in rate_names]
    # eth0 rx went 4294967000 → 100 (wrap) → 10100: one honest rate, never ~4e8 B/s.
    assert t2["net.eth0.rx_bytes_per_s"] == 1000
    assert all(0 <= t2[n] <= 100 for n in t2 if n.startswith("cpu.usage_"))


def test_container_without_psi_reports_no_pressure(tmp_path: Path) -> None:
    for got, _ in _run_case("container_no_psi", tmp_path):
        assert not [n for n in got if n.startswith(("pressure.", "temp.", "diskio."))]
        assert "disk.root.used_percent" in got


@pytest.mark.parametrize("name", sorted(COLLECTORS))
def test_missing_files_yield_nothing(name: str, tmp_path: Path) -> None:
    paths = HostPaths(proc_root=tmp_path / "proc", sys_root=tmp_path / "sys", run_root=tmp_path)
    (collector,) = build_collectors([name], paths)
    assert collector.collect(0.0) == {}
    assert collector.collect(10.0) == {}


def test_truncated_files_are_not_errors(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "pressure").mkdir()
    (proc / "stat").write_text("cpu\n")
    (proc / "loadavg").write_text("0.1\n")
    (proc / "net" / "snmp").write_text("Tcp: RtoAlgorithm\n")
    (proc / "pressure" / "cpu").write_text("some garbage\n")
    collectors = build_collectors(list(COLLECTORS), HostPaths(proc, tmp_path / "sys", tmp_path))
    for collector in collectors:
        collector.collect(0.0)
        assert collector.collect(10.0) in ({}, {"cpu.count": 0.0})


def test_unknown_collector_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid: cpu, load"):
        build_collectors(["cpu", "gpu"], HostPaths())


def test_this_machine_yields_valid_metric_names() -> None:
    collectors = build_collectors(list(COLLECTORS), HostPaths())
    first = time.monotonic()
    for collector in collectors:
        collector.collect(first)
    time.sleep(0.3)  # enough clock ticks for CPU percentages
    metrics: dict[str, float] = {}
    for collector in collectors:
        metrics |= collector.collect(first + 1.0)
    assert any(n.startswith("cpu.usage_") for n in metrics)
    bad = [n for n in metrics if not re.match(METRIC_NAME_PATTERN, n)]
    assert not bad


def test_services_run_systemctl_at_most_every_refresh(tmp_path: Path) -> None:
    (tmp_path / "systemd" / "system").mkdir(parents=True)
    calls: list[float] = []

    def list_units() -> str:
        calls.append(1.0)
        return "a.service loaded active running A\n"

    collector = ServicesCollector(run_root=tmp_path, refresh_s=60, list_units=list_units)
    readings = [collector.collect(now) for now in (0.0, 30.0, 59.0, 60.0)]
    assert len(calls) == 2
    assert all(r["services.active"] == 1 for r in readings)


def test_disk_skips_mounts_that_vanish(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "mounts").write_text("/dev/sda1 / ext4 rw 0 0\n/dev/sdc1 /gone ext4 rw 0 0\n")

    def statvfs(path: str) -> os.statvfs_result:
        if path.endswith("gone"):
            raise FileNotFoundError(path)
        return os.statvfs(tmp_path)

    metrics = DiskCollector(proc, tmp_path / "sys", statvfs=statvfs).collect(0.0)
    assert set(metrics) >= {"disk.root.used_percent", "disk.root.free_bytes"}
    assert not [n for n in metrics if "gone" in n]
