"""The tuning actions' parameter models refuse what a node must never write."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.control.catalogue import CATALOGUE, parse_params


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("set_sysctl", {"key": "kernel.core_pattern", "value": 1}),  # not allowlisted
        ("set_sysctl", {"key": "vm.swappiness", "value": 100}),  # above 60
        ("set_sysctl", {"key": "vm.swappiness", "value": 10, "extra": 1}),
        ("set_cgroup_limit", {"unit": "app.service", "file": "memory.max", "value": "1"}),
        ("set_cgroup_limit", {"unit": "app.service", "file": "cpu.max", "value": "50000"}),
        ("set_cgroup_limit", {"unit": "../x.service", "file": "memory.high", "value": "1"}),
        ("set_unit_property", {"unit": "app.service", "property": "ExecStart", "value": "/x"}),
        ("set_unit_property", {"unit": "app.service", "property": "CPUQuota", "value": "50%\nX=1"}),
    ],
)
def test_refused(action: str, params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_params(action, params)


def test_accepted_and_always_approved() -> None:
    assert parse_params(
        "set_cgroup_limit", {"unit": "a.service", "file": "cpu.max", "value": "50000 100000"}
    )
    assert parse_params(
        "set_cgroup_limit", {"unit": "a.service", "file": "io.max", "value": "8:0 wbps=1048576"}
    )
    assert parse_params(
        "set_unit_property", {"unit": "a.service", "property": "MemoryHigh", "value": "2G"}
    )
    for name in ("set_sysctl", "set_cgroup_limit", "set_unit_property"):
        assert CATALOGUE[name].always_approval and CATALOGUE[name].tuning
