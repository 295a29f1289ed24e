from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.app_errors import AppErrors
from tests.unit.incidents.diagnosis.conftest import view_of


def test_error_rate_up_is_app_errors() -> None:
    evidence, view = view_of({"app.errors_per_s": 20})
    found = AppErrors().analyze_one(evidence, view)
    assert found is not None and found.confidence <= 0.7


def test_fewer_errors_are_not_app_errors() -> None:
    evidence, view = view_of({"app.errors_per_s": 0.0})
    assert AppErrors().analyze_one(evidence, view) is None
