from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.feedback import FALSE_POSITIVE, IncidentMemory
from pipeline.models import PastIncident
from tests.unit.incidents.diagnosis.conftest import make_node

LOCKS = {"dbms.lock_waits": 50.0, "dbms.threads_running": 40.0}


def incident(incident_id: str, seed: int, window: dict[str, float] = LOCKS) -> Evidence:
    return Evidence(incident_id, (make_node(window, seed=seed),))


def diagnose_and_remember(memory: IncidentMemory, evidence: Evidence) -> str:
    diagnosis = memory.diagnoser.diagnose_one(evidence)
    memory.remember_one(evidence, diagnosis)
    return diagnosis.kind


def test_a_label_teaches_the_next_similar_incident() -> None:
    memory = IncidentMemory()
    assert diagnose_and_remember(memory, incident("i-1", 1)) == "unknown"
    memory.label_one("i-1", "lock_contention", by="alice")
    assert diagnose_and_remember(memory, incident("i-2", 2)) == "lock_contention"
    assert "i-1" not in memory.pending and "i-2" in memory.pending


def test_a_false_positive_is_recognised_next_time() -> None:
    memory = IncidentMemory()
    noisy = {"cpu.usage_user": 27.0, "net.eth0.rx_bytes_per_s": 1.4e6}
    diagnose_and_remember(memory, incident("i-1", 1, noisy))
    memory.false_positive_one("i-1", by="bob")
    assert diagnose_and_remember(memory, incident("i-2", 2, noisy)) == FALSE_POSITIVE


def test_outcomes_follow_the_record_and_everything_round_trips() -> None:
    memory = IncidentMemory()
    diagnose_and_remember(memory, incident("i-1", 1))
    memory.record_outcome("i-1", "restart_unit", worked=False)
    memory.label_one("i-1", "lock_contention", by="alice")
    memory.record_outcome("i-1", "notify", worked=True)
    diagnose_and_remember(memory, incident("i-2", 2))
    wire = json.dumps([r.model_dump(mode="json") for r in memory.to_records()])
    restored = IncidentMemory.from_records(PastIncident.model_validate(r) for r in json.loads(wire))
    assert restored.to_records() == memory.to_records()
    (confirmed,) = restored.diagnoser.history.to_records()
    assert [(a.action, a.worked) for a in confirmed.actions] == [
        ("restart_unit", False),
        ("notify", True),
    ]
    assert restored.diagnoser.diagnose_one(incident("i-3", 3)).kind == "lock_contention"


def test_unknown_incident_and_bad_kind_are_refused() -> None:
    memory = IncidentMemory()
    with pytest.raises(KeyError, match="i-9"):
        memory.label_one("i-9", "lock_contention", by="alice")
    diagnose_and_remember(memory, incident("i-1", 1))
    with pytest.raises(ValidationError):
        memory.label_one("i-1", "Lock Contention!", by="alice")
    assert memory.label_one("i-1", "lock_contention", by="alice").kind == "lock_contention"


def test_pending_incidents_are_bounded_oldest_first() -> None:
    memory = IncidentMemory(max_pending=2)
    for i in range(3):
        diagnose_and_remember(memory, incident(f"i-{i}", i))
    assert list(memory.pending) == ["i-1", "i-2"]
