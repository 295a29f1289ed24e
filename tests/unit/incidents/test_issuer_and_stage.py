from __future__ import annotations

from datetime import timedelta

from pipeline.config import IncidentSettings
from pipeline.control.operators import make_command
from pipeline.control.signing import verify_request
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.issuer import Issuer
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.runbooks import parse_runbook
from pipeline.incidents.stage import IncidentStage
from pipeline.models import Incident, utc_now
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import (
    KEY,
    KEYRING,
    OPERATOR,
    OTHER_KEY,
    ListSink,
    control,
    event_at,
)

RUNBOOK = parse_runbook("""\
version: 1
rules:
  - name: runaway
    match: {metric: "cpu.usage_user", direction: up, severity: [critical]}
    action: {type: stop_process, params: {top: cpu}}
    verify: {metric: cpu.usage_user, below: 50}
    owner: sre
""")


def _stage(**overrides: object) -> tuple[IncidentStage, ListSink]:
    inventory = Inventory()
    for i in range(50):
        inventory.observe_one(f"n{i:02d}", {"role": "web"}, BASE_TIME)
    tracker = IncidentTracker(GroupingPolicy(settle_s=0), inventory)
    issuer = Issuer(IncidentSettings(), control(**overrides), RUNBOOK, KEY, inventory)
    sink = ListSink()
    return IncidentStage(tracker, issuer, sink, KEYRING), sink


def test_fleet_fault_issues_only_the_allowed_share_of_signed_requests() -> None:
    stage, sink = _stage(blast_max_share=0.2, blast_max_nodes=100)
    incidents: list[Incident] = []
    requests = []
    for i in range(50):
        output = stage.on_anomaly(event_at(f"n{i:02d}", i * 0.1, labels={"role": "web"}), utc_now())
        incidents += output.incidents
        requests += output.requests
    assert len({i.incident_id for i in incidents}) == 1
    assert len({r.node_id for r in requests}) == len(requests) == 10  # 20 % of 50
    assert stage.counters.requests_blocked == 40
    for req in requests:
        verify_request(req, KEYRING, utc_now())
        assert (req.action, req.verify_metric, req.recover_below) == (
            "stop_process",
            "cpu.usage_user",
            50,
        )
        assert req.params == {"top": "cpu", "grace_s": 5.0}
    assert sink.steps().count("issued") == 10 and sink.steps().count("blocked") == 40
    assert {p._name for p in sink.points} == {"incidents", "remediation_audit", "incident_actions"}


def test_same_incident_is_not_issued_twice() -> None:
    stage, _ = _stage()
    first = stage.on_anomaly(event_at("n01", 0), utc_now())
    again = stage.tick(BASE_TIME + timedelta(seconds=11))
    more = stage.on_anomaly(event_at("n01", 20, metric="cpu.usage_system"), utc_now())
    assert len(first.requests + again.requests + more.requests) == 1


def test_signed_silence_suppresses_requests_and_marks_incidents() -> None:
    stage, _ = _stage()
    silence = make_command(
        OPERATOR, "silence", BASE_TIME, label="role=web", until_at=BASE_TIME + timedelta(hours=2)
    )
    stage.on_command(silence, BASE_TIME)
    stage.on_anomaly(event_at("n01", 0), BASE_TIME)
    output = stage.tick(BASE_TIME + timedelta(seconds=11))
    assert output.incidents[0].silenced and output.requests == []


def test_unsigned_command_is_refused() -> None:
    stage, _ = _stage()
    forged = make_command(
        OTHER_KEY, "silence", BASE_TIME, node_id="n01", until_at=BASE_TIME + timedelta(hours=2)
    )
    stage.on_command(forged, BASE_TIME)
    assert stage.counters.commands_refused == 1 and len(stage.silences) == 0


def test_ack_and_owner_from_rule() -> None:
    stage, _ = _stage()
    stage.on_anomaly(event_at("n01", 0), utc_now())
    (incident,) = stage.tick(BASE_TIME + timedelta(seconds=11)).incidents
    ack = make_command(OPERATOR, "ack", BASE_TIME, incident_id=incident.incident_id)
    (acked,) = stage.on_command(ack, BASE_TIME).incidents
    assert acked.owner == "sre" and acked.acknowledged_by is not None
