"""Top processes, systemd units and OOM kills against the golden ``culprits/busy`` snapshot.

The snapshot (tests/fixtures/proc/culprits/generate.py) at 100 clock ticks/s and 4 KiB pages,
read with top_n=1 and hold_rounds=1, rounds 10 s apart:
- t0: no rates yet. Top by RSS is java (1 GiB), by open files leaky (20 of its limit 64 =
  31.25 %); kernel threads (kthreadd, kworker/*) are never candidates. Units: api has the most
  memory (2e8 of 4e8 = 50 %).
- t1: nginx's two processes used 10 + 1000 ticks = 10.1 s of CPU in 10 s = 101 %, so nginx
  enters by CPU; java 300 ticks = 30 %; leaky holds 40 fds = 62.5 %. api used 1e7 µs = 100 % of
  a core and was throttled in 80 of 100 periods (80 %); worker has the most memory (3e8 of
  3.2e8 = 93.75 %). The kernel counted no new OOM kill.
- t2: nginx (6 %) no longer ranks but is held one round; the process "my prog) x" is gone.
  worker was OOM-killed twice (0.2/s), flappy's process 400 was replaced by 401 (a restart:
  0.1/s, and its CPU counter went back, so no CPU figure); both are reported although neither
  is in the top. The kernel counted 2 OOM kills (0.2/s).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.agent.collectors.memory import MemoryCollector
from pipeline.agent.collectors.top import TopProcessCollector
from pipeline.agent.collectors.units import UnitCollector

CASE = Path(__file__).resolve().parents[2] / "fixtures" / "proc" / "culprits" / "busy"


def _steps() -> list[dict[str, object]]:
    return [json.loads(line) for line in (CASE / "expected.jsonl").read_text().splitlines()]


def test_golden_culprit_snapshot(tmp_path: Path) -> None:
    current = tmp_path / "current"
    proc, sys = current / "proc", current / "sys"
    top = TopProcessCollector(proc, sys, top_n=1, hold_rounds=1, clock_ticks=100, page_bytes=4096)
    units = UnitCollector(proc, sys, top_n=1, hold_rounds=1)
    memory = MemoryCollector(proc, sys)
    for step in _steps():
        if current.is_symlink():
            current.unlink()
        current.symlink_to(CASE / str(step["step"]))
        now_s = float(step["now_s"])  # type: ignore[arg-type]
        got = top.collect(now_s) | units.collect(now_s) | memory.collect(now_s)
        expected = step["metrics"]
        assert isinstance(expected, dict)
        assert sorted(got) == sorted(expected), step["step"]
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, abs=1e-9), (step["step"], name)
        assert units.restarted_units == step["restarted_units"]


def test_top_is_bounded_by_max_instances(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid in range(10, 110):
        (proc / str(pid)).mkdir(parents=True)
        fields = ["S", "1"] + ["0"] * 9 + [str(pid), "0"] + ["0"] * 4 + ["1", "0", "1", "0", "9"]
        (proc / str(pid) / "stat").write_text(f"{pid} (cmd{pid}) " + " ".join(fields) + "\n")
    collector = TopProcessCollector(proc, tmp_path / "sys", top_n=10, hold_rounds=100)
    metrics = collector.collect(0.0)
    names = {name.split(".")[1] for name in metrics}
    assert 0 < len(names) <= 10 * 3


def test_unit_restart_needs_every_old_process_gone(tmp_path: Path) -> None:
    unit = tmp_path / "sys" / "fs" / "cgroup" / "system.slice" / "php.service"
    unit.mkdir(parents=True)
    (unit.parents[1] / "cgroup.procs").write_text("1\n")
    collector = UnitCollector(tmp_path / "proc", tmp_path / "sys")
    seen = []
    for procs in ("10 11 12", "10 13 14", "", "20"):  # workers recycled, then down, then back
        (unit / "cgroup.procs").write_text(procs)
        collector.collect(0.0)
        seen.append(collector.restarted_units)
    assert seen == [[], [], [], ["php.service"]]
