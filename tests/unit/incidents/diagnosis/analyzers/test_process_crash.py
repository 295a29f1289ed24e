from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.process_crash import ProcessCrash
from tests.unit.incidents.diagnosis.conftest import view_of


def test_restarting_unit_is_the_culprit() -> None:
    evidence, view = view_of({"unit.api.restarts_per_s": 0.1, "services.failed": 1})
    found = ProcessCrash().analyze_one(evidence, view)
    assert found is not None and found.culprit == "api"


def test_quiet_node_has_no_crash() -> None:
    evidence, view = view_of()
    assert ProcessCrash().analyze_one(evidence, view) is None
