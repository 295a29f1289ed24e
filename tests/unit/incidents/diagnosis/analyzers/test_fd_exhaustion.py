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
