"""The unit that owns a culprit process: the one whose summed cgroup series follow the process."""

from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.owner import owning_unit, process_in
from pipeline.incidents.diagnosis.diagnoser import Diagnoser
from pipeline.incidents.diagnosis.evidence import NodeEvidence, node_evidence
from tests.unit.incidents.diagnosis.conftest import (
    ROWS,
    START_S,
    STEP_S,
    WINDOW_START_S,
    make_evidence,
)

GIB = 2.0**30


def leaking_node(with_units: bool = True) -> NodeEvidence:
    """``gunicorn`` (in ``api.service``) leaks; ``nginx`` (in its own unit) stays put."""
    rng = np.random.default_rng(7)
    times_s = START_S + STEP_S * np.arange(ROWS)
    leak = np.where(times_s >= WINDOW_START_S, (times_s - WINDOW_START_S) * 2e7, 0.0)
    gunicorn = 1.5 * GIB + rng.normal(0, 2e6, ROWS) + leak
    nginx = 2e8 + rng.normal(0, 2e6, ROWS)
    used = 40 + 100 * (gunicorn + nginx) / (16 * GIB) + rng.normal(0, 0.05, ROWS)
    series = {
        "mem.used_percent": used,
        "mem.available_bytes": 16 * GIB * (1 - used / 100),
        "proc.gunicorn.rss_bytes": gunicorn,
        "proc.gunicorn.cpu_percent": rng.normal(50, 5, ROWS),
        "proc.nginx.rss_bytes": nginx,
    }
    if with_units:  # page cache is charged to a unit as well: it sits above its processes
        series |= {
            "unit.api.memory_bytes": gunicorn * 1.15 + rng.normal(0, 1e6, ROWS),
            "unit.nginx.memory_bytes": nginx * 1.15 + rng.normal(0, 5e5, ROWS),
            "unit.gunicorn.memory_bytes": rng.normal(3e8, 2e6, ROWS),  # same name, other service
        }
    window_s = (WINDOW_START_S, START_S + STEP_S * ROWS)
    return node_evidence("web-1", {"role": "web"}, times_s, series, window_s)


def test_the_owner_is_the_unit_whose_series_follow_the_process_not_its_namesake() -> None:
    node = leaking_node()
    assert owning_unit(node, "gunicorn") == "api.service"
    assert owning_unit(node, "nginx") == "nginx.service"


def test_a_process_no_unit_follows_has_no_owner() -> None:
    assert owning_unit(leaking_node(with_units=False), "gunicorn") is None


def test_a_culprit_named_from_unit_series_is_its_own_owner() -> None:
    node = leaking_node()
    assert owning_unit(node, "api") == "api.service"
    assert owning_unit(node, "absent") is None


def test_the_diagnosis_names_the_leaking_process_and_the_unit_that_owns_it() -> None:
    diagnosis = Diagnoser().diagnose_one(make_evidence(leaking_node()))
    assert diagnosis.kind == "memory_leak"
    assert (diagnosis.culprit.process, diagnosis.culprit.unit) == ("gunicorn", "api.service")


def test_a_unit_named_by_a_unit_only_figure_gives_the_process_inside_it() -> None:
    node = leaking_node()
    assert process_in(node, "api") == "gunicorn"
    assert process_in(node, "gunicorn") == "gunicorn"  # a process stays itself
    assert process_in(leaking_node(with_units=False), "api") == "api"  # no such unit: as named
