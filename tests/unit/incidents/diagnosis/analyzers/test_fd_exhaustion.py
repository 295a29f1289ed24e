from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.fd_exhaustion import FdExhaustion
from tests.unit.incidents.diagnosis.conftest import view_of


def test_process_fds_towards_limit_name_the_holder() -> None:
    evidence, view = view_of(
        {
            "proc.app.open_fds": lambda p: 100 + 5000 * p,
            "proc.app.fd_limit_percent": lambda p: 10 + 80 * p,
        }
    )
    found = FdExhaustion().analyze_one(evidence, view)
    assert found is not None and found.culprit == "app"


def test_node_share_rising_but_far_from_limit_is_not_exhaustion() -> None:
    evidence, view = view_of({"processes.open_fds_percent": 6})
    assert FdExhaustion().analyze_one(evidence, view) is None


def test_a_service_forking_a_worker_doubles_its_fds_without_leaking() -> None:
    # 100 -> 200 fds at 20 % of its limit: many sigmas of a steady count, but no leak.
    evidence, view = view_of({"proc.app.open_fds": 200, "proc.app.fd_limit_percent": 20})
    assert FdExhaustion().analyze_one(evidence, view) is None


def test_a_thousand_more_fds_under_a_high_limit_is_a_leak() -> None:
    evidence, view = view_of({"proc.app.open_fds": 1500, "proc.app.fd_limit_percent": 0.3})
    found = FdExhaustion().analyze_one(evidence, view)
    assert found is not None and found.culprit == "app"
