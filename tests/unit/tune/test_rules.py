"""Tuning knowledge per kind, reading current values from a proc/sys root fixture in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.incidents.diagnosis.analyzers.registry import CORE_KINDS
from pipeline.tune.advice import Reader
from pipeline.tune.knobs import Knob, read_current
from pipeline.tune.rules import NO_KNOB, RULES, suggest

DEFAULTS = {  # a stock kernel's values
    "vm/swappiness": "60", "vm/dirty_background_ratio": "10", "vm/dirty_ratio": "20",
    "net/core/somaxconn": "128", "net/core/netdev_max_backlog": "1000",
}  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, value in DEFAULTS.items():
        path = tmp_path / "proc" / "sys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    cgroup = tmp_path / "sys" / "fs" / "cgroup" / "system.slice" / "app.service"
    cgroup.mkdir(parents=True)
    (cgroup / "memory.high").write_text("max\n")
    journald = tmp_path / "etc" / "systemd"
    journald.mkdir(parents=True)
    (journald / "journald.conf").write_text("[Journal]\n#SystemMaxUse=\nSystemMaxUse=8G\n")
    return tmp_path


def reader(root: Path) -> Reader:
    return lambda knob: read_current(knob, root, "app.service")


def test_every_core_kind_with_a_knob_gets_a_suggestion(root: Path) -> None:
    assert set(RULES) | set(NO_KNOB) == set(CORE_KINDS)
    for kind in RULES:
        assert suggest(kind, reader(root)), kind


def test_kinds_without_a_knob_get_none(root: Path) -> None:
    assert all(suggest(kind, reader(root)) == [] for kind in NO_KNOB)


def test_current_values_and_rollback_come_from_the_root(root: Path) -> None:
    first = suggest("memory_pressure", reader(root))[0]
    assert (first.knob.name, first.current, first.proposed) == ("vm.swappiness", "60", "10")
    assert first.rollback == "set vm.swappiness back to 60"
    cgroup = suggest("memory_leak", reader(root))[0]
    assert (cgroup.knob.name, cgroup.current) == ("memory.high", "max")


def test_a_knob_already_tuned_is_not_suggested(root: Path) -> None:
    (root / "proc/sys/net/core/somaxconn").write_text("4096\n")
    names = [s.knob.name for s in suggest("network_degradation", reader(root))]
    assert names == ["net.core.netdev_max_backlog"]


def test_suggestions_are_ranked_best_first(root: Path) -> None:
    weights = [s.weight for s in suggest("io_saturation", reader(root))]
    assert weights == sorted(weights, reverse=True)
    assert len(weights) == 4


def test_journald_value_is_the_last_uncommented_one(root: Path) -> None:
    assert read_current(Knob("journald", "SystemMaxUse"), root, None) == "8G"
    assert read_current(Knob("sysctl", "vm.nonexistent"), root, None) is None
