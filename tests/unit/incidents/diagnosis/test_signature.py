from __future__ import annotations

import math

from pipeline.incidents.diagnosis.signature import cosine, deviations_of, signature_of
from tests.unit.incidents.diagnosis.conftest import make_node


def test_deviation_is_window_mean_against_baseline_noise() -> None:
    node = make_node({"mem.used_percent": 45.0})  # baseline 40 +- 0.5
    z = deviations_of(node)["mem.used_percent"].z
    assert 7 < z < 13


def test_constant_baseline_is_floored_at_one_percent_of_its_level() -> None:
    node = make_node({"proc.app.open_fds": 102.0})
    node.series["proc.app.open_fds"][:-12] = 100.0
    assert math.isclose(deviations_of(node)["proc.app.open_fds"].z, 2.0 / 1.02, rel_tol=0.05)


def test_signature_keeps_direction_and_compresses_size() -> None:
    node = make_node({"cpu.usage_idle": 4.0, "mem.used_percent": 45.0})
    signature = signature_of(deviations_of(node))
    assert signature["cpu.usage_idle"] < 0 < signature["mem.used_percent"]
    assert abs(signature["cpu.usage_idle"]) < 10


def test_cosine_uses_only_shared_metrics() -> None:
    assert cosine({"a.x": 1.0, "b.x": 5.0}, {"a.x": 2.0, "c.x": -9.0}) == 1.0
    assert cosine({"a.x": 1.0}, {"b.x": 1.0}) == 0.0
    assert cosine({"a.x": 1.0}, {"a.x": -1.0}) == -1.0
