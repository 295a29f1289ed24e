from __future__ import annotations

from pathlib import Path

from pipeline.incidents.diagnosis.cases import read_case
from pipeline.incidents.diagnosis.diagnoser import Diagnoser
from pipeline.models import ActionOutcome, Diagnosis, Incident
from tests.unit.incidents.diagnosis.conftest import deploy, make_evidence, make_node

FIXTURE = Path(__file__).parents[3] / "fixtures" / "cases"


def test_zero_shot_names_kind_culprit_and_evidence() -> None:
    diagnosis = Diagnoser().diagnose_one(read_case(FIXTURE / "cpu_saturation-1"))
    assert diagnosis.kind == "cpu_saturation" and diagnosis.confidence >= 0.5
    assert diagnosis.culprit.node_id == "a-1" and diagnosis.culprit.process == "burner"
    assert diagnosis.evidence and diagnosis.deviations[0].metric.startswith(("cpu.", "proc."))
    assert [s.source for s in diagnosis.sources] == ["analyzers"]


def test_harmless_change_on_another_role_is_not_blamed() -> None:
    diagnosis = Diagnoser().diagnose_one(read_case(FIXTURE / "harmless-change"))
    assert diagnosis.kind == "cpu_saturation" and diagnosis.culprit.change_id is None


def test_bad_change_names_the_change() -> None:
    diagnosis = Diagnoser().diagnose_one(read_case(FIXTURE / "bad_change-1"))
    assert diagnosis.kind == "bad_change" and diagnosis.culprit.change_id == "deploy-app"


def test_nothing_recognisable_abstains_as_unknown() -> None:
    evidence = make_evidence(make_node({"dbms.lock_waits": 50.0}))
    diagnosis = Diagnoser().diagnose_one(evidence)
    assert diagnosis.kind == "unknown" and diagnosis.confidence < 0.3


def test_an_operator_kind_is_learned_and_recalled_with_its_fix() -> None:
    diagnoser = Diagnoser()
    seen = make_evidence(make_node({"dbms.lock_waits": 50.0, "dbms.threads_running": 40.0}))
    diagnoser.confirm_one(
        seen,
        "lock_contention",
        culprit="mysqld",
        actions=[ActionOutcome(action="notify", worked=True)],
    )
    again = make_evidence(
        make_node({"dbms.lock_waits": 45.0, "dbms.threads_running": 38.0}, seed=3)
    )
    diagnosis = diagnoser.diagnose_one(again)
    assert diagnosis.kind == "lock_contention" and diagnosis.culprit.process == "mysqld"
    assert diagnosis.similar[0].incident_id == "inc-1"
    assert [(f.action, f.worked, f.tried) for f in diagnosis.fixes] == [("notify", 1, 1)]


def test_history_outvotes_a_generic_analyzer_it_contradicts() -> None:
    # Operators confirmed this shape (CPU busy + deploy) as a bad change three times.
    diagnoser = Diagnoser()
    sick = {"cpu.usage_idle": 5.0, "cpu.usage_user": 85.0, "dbms.threads_running": 90.0}
    for seed in range(3):
        diagnoser.confirm_one(make_evidence(make_node(sick, seed=seed)), "runaway_query")
    diagnosis = diagnoser.diagnose_one(make_evidence(make_node(sick, seed=9)))
    assert diagnosis.kind == "runaway_query"
    assert "cpu_saturation" in [a.kind for a in diagnosis.alternatives]


def test_diagnosis_rides_on_the_incident_message() -> None:
    a, b = make_node({"cpu.usage_user": 45.0}, "a-1"), make_node({"cpu.usage_user": 45.0}, "a-2")
    diagnosis = Diagnoser().diagnose_one(make_evidence(a, b, changes=(deploy("app"),)))
    incident = Incident.model_validate(_incident() | {"diagnosis": diagnosis.model_dump()})
    assert isinstance(incident.diagnosis, Diagnosis) and incident.diagnosis.kind == "bad_change"


def _incident() -> dict[str, object]:
    return {
        "incident_id": "i-1",
        "dedup_key": "k",
        "kind": "host",
        "status": "open",
        "severity": "warning",
        "title": "t",
        "affected_count": 1,
        "event_count": 1,
        "opened_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
