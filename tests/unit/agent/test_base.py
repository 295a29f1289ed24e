"""Counter-to-rate conversion and metric-name sanitising shared by the collectors."""

from __future__ import annotations

import re

import pytest

from pipeline.agent.collectors.base import CounterRates, instance_name
from pipeline.models import METRIC_NAME_PATTERN


def test_rate_is_increase_per_second() -> None:
    rates = CounterRates()
    assert rates.rate("x", 1_000, 5.0) is None
    assert rates.rate("x", 3_000, 9.0) == 500.0


@pytest.mark.parametrize("after", [0, 10, 2**32 - 1])
def test_a_counter_that_goes_back_gives_no_rate_then_restarts(after: int) -> None:
    rates = CounterRates()
    rates.rate("x", 2**32, 0.0)
    assert rates.rate("x", after, 10.0) is None
    assert rates.rate("x", after + 100, 20.0) == 10.0


def test_same_instant_gives_no_rate() -> None:
    rates = CounterRates()
    rates.rate("x", 1, 3.0)
    assert rates.rate("x", 2, 3.0) is None


def test_group_is_dropped_when_any_member_went_back() -> None:
    rates = CounterRates()
    rates.rate_group("eth0", {"rx": 100, "errors": 0}, 0.0)
    assert rates.rate_group("eth0", {"rx": 50, "errors": 0}, 10.0) == {}
    assert rates.rate_group("eth0", {"rx": 150, "errors": 0}, 20.0) == {"rx": 10.0, "errors": 0}


def test_retain_forgets_vanished_counters() -> None:
    rates = CounterRates()
    rates.rate("sda|r", 10, 0.0)
    rates.rate("sdb|r", 10, 0.0)
    rates.retain(lambda key: key.startswith("sda|"))
    assert rates.rate("sda|r", 20, 10.0) == 1.0
    assert rates.rate("sdb|r", 20, 10.0) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "root"),
        ("/var/lib/docker", "var_lib_docker"),
        ("/data disk", "data_disk"),
        ("eth0.100", "eth0_100"),
        ("/-weird", "_weird"),
        ("Ünïcode/Dev", "n_code_dev"),
        ("///", "unnamed"),
    ],
)
def test_instance_names_fit_the_metric_pattern(raw: str, expected: str) -> None:
    name = instance_name(raw)
    assert name == expected
    assert re.match(METRIC_NAME_PATTERN, f"disk.{name}.used_percent")


def test_long_instance_names_are_cut_to_fit() -> None:
    name = instance_name("/" + "a" * 200)
    assert len(name) == 64
    assert re.match(METRIC_NAME_PATTERN, f"disk.{name}.used_percent")
