"""What the agent reports as changes: package moves, a new kernel, unit restarts."""

from __future__ import annotations

from pathlib import Path

from pipeline.agent.changes import ChangeWatcher
from pipeline.agent.collectors.units import UnitCollector
from pipeline.agent.package_log import PackageLog


def _watcher(tmp_path: Path, units: UnitCollector | None = None) -> ChangeWatcher:
    return ChangeWatcher(
        "web-01", "web", PackageLog(tmp_path), units, tmp_path / "proc", tmp_path / "state.json"
    )


def test_package_log_reports_only_new_lines_and_survives_rotation(tmp_path: Path) -> None:
    log = tmp_path / "var" / "log" / "dpkg.log"
    log.parent.mkdir(parents=True)
    log.write_text("2026-11-29 10:00:00 upgrade old:amd64 1.0 1.1\n")
    packages = PackageLog(tmp_path)
    assert packages.poll() == []  # what was there before the agent started is history
    with log.open("a") as out:
        out.write("2026-11-30 06:00:00 status installed x:amd64 1\n")
        out.write("2026-11-30 06:00:01 install curl:amd64 <none> 8.5.0-2\n")
    assert [(m.action, m.package, m.version) for m in packages.poll()] == [
        ("install", "curl", "8.5.0-2")
    ]
    assert packages.poll() == []
    log.write_text("2026-11-30 07:00:00 upgrade vim:amd64 9.0 9.1\n")  # rotated: shorter
    assert [m.package for m in packages.poll()] == ["vim"]


def test_many_package_moves_are_one_change(tmp_path: Path) -> None:
    log = tmp_path / "var" / "log" / "dnf.rpm.log"
    log.parent.mkdir(parents=True)
    log.write_text("")
    watcher = _watcher(tmp_path)
    assert watcher.poll() == []
    log.write_text(
        "".join(
            f"2026-11-30T06:00:0{i}+0000 SUBDEBUG Upgrade: pkg{i}-1.{i}-1.el9.x86_64\n"
            for i in range(7)
        )
    )
    (change,) = watcher.poll()
    assert (change.kind, change.role, change.nodes) == ("package", "web", ["web-01"])
    assert change.version == "pkg0 1.0-1.el9.x86_64"
    assert change.summary.endswith("(+2 more)")


def test_a_new_kernel_is_a_change_once(tmp_path: Path) -> None:
    release = tmp_path / "proc" / "sys" / "kernel" / "osrelease"
    release.parent.mkdir(parents=True)
    release.write_text("6.1.0-17-amd64\n")
    assert _watcher(tmp_path).poll() == []  # first run: nothing to compare with
    release.write_text("6.1.0-18-amd64\n")
    (change,) = _watcher(tmp_path).poll()  # a new agent process after the reboot
    assert (change.kind, change.version) == ("kernel", "6.1.0-18-amd64")
    assert _watcher(tmp_path).poll() == []


def test_unit_restarts_become_restart_changes(tmp_path: Path) -> None:
    unit = tmp_path / "sys" / "fs" / "cgroup" / "system.slice" / "api.service"
    unit.mkdir(parents=True)
    (unit.parents[1] / "cgroup.procs").write_text("1\n")
    collector = UnitCollector(tmp_path / "proc", tmp_path / "sys")
    watcher = _watcher(tmp_path, collector)
    for pids in ("100", "200"):
        (unit / "cgroup.procs").write_text(pids)
        collector.collect(0.0)
    (change,) = watcher.poll()
    assert (change.kind, change.summary) == ("restart", "api.service restarted")


def test_changes_wait_in_the_spool_while_kafka_is_away() -> None:
    from pipeline.agent.changes import ChangeSender
    from pipeline.config import KafkaSettings, TopicSettings
    from pipeline.models import ChangeEvent

    sender = ChangeSender(KafkaSettings(bootstrap="127.0.0.1:1"), TopicSettings(), 1.0)
    first = ChangeEvent(kind="restart", nodes=["web-01"], who="fleetwatch-agent")
    assert sender.send_many([first]) == 0
    assert sender.publisher.failures == 1
    second = ChangeEvent(kind="package", nodes=["web-01"], who="fleetwatch-agent")
    assert sender.send_many([second]) == 0  # backing off: not even tried
    assert sender.publisher.failures == 1
    assert (sender.pending, sender.dropped) == (2, 0)
    sender.close(0)
