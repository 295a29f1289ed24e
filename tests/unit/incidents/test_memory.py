"""Incident memory: a stage rebuilt from its own memory records keeps ids, acks and actions."""

from __future__ import annotations

from datetime import timedelta

from pipeline.config import IncidentSettings
from pipeline.control.operators import make_command
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.issuer import Issuer
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.runbooks import parse_runbook
from pipeline.incidents.stage import IncidentStage, StageOutput
from pipeline.models import RemediationResult, RememberedIncident
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import KEY, KEYRING, OPERATOR, ListSink, control, event_at

RUNBOOK = parse_runbook("""\
version: 1
rules:
  - name: runaway
    match: {metric: "cpu.usage_[!i]*", direction: up, severity: [critical]}
    action: {type: stop_process, params: {top: cpu}}
""")


def _stage() -> IncidentStage:
    inventory = Inventory()
    tracker = IncidentTracker(GroupingPolicy(settle_s=0), inventory)
    issuer = Issuer(IncidentSettings(), control(), RUNBOOK, KEY, inventory)
    return IncidentStage(tracker, issuer, ListSink(), KEYRING, mute_s=3600)


def _latest(outputs: list[StageOutput]) -> list[RememberedIncident]:
    latest: dict[str, RememberedIncident] = {}
    for output in outputs:
        for memory in output.memories:
            latest[memory.incident.incident_id] = memory
    return list(latest.values())


def _opened_and_acked() -> tuple[list[StageOutput], str]:
    stage = _stage()
    at = BASE_TIME + timedelta(seconds=20)
    outputs = [stage.on_anomaly(event_at("n01", 0), at), stage.tick(at)]
    incident_id = outputs[-1].incidents[0].incident_id
    ack = make_command(OPERATOR, "ack", at, incident_id=incident_id, issued_by="alice")
    outputs.append(stage.on_command(ack, at))
    return outputs, incident_id


def test_a_restarted_stage_keeps_the_id_the_ack_and_issues_nothing_again() -> None:
    outputs, incident_id = _opened_and_acked()
    assert sum(len(o.requests) for o in outputs) == 1
    restarted = _stage()
    restarted.restore(_latest(outputs))
    later = BASE_TIME + timedelta(seconds=60)
    replayed_ack = make_command(OPERATOR, "ack", later, incident_id=incident_id, issued_by="alice")
    assert restarted.on_command(replayed_ack, later).incidents == []
    output = restarted.on_anomaly(event_at("n01", 50, metric="cpu.usage_system"), later)
    (incident,) = output.incidents
    assert incident.incident_id == incident_id
    assert (incident.status, incident.acknowledged_by) == ("updated", "alice")
    assert output.requests == []
    assert restarted.counters.incidents_opened == 0


def test_verified_outcomes_rate_actions_per_labelled_kind() -> None:
    outputs, incident_id = _opened_and_acked()
    stage = _stage()
    stage.restore(_latest(outputs))
    (action,) = stage.book.records[incident_id].actions
    label = make_command(
        OPERATOR, "label", BASE_TIME, incident_id=incident_id, fault_kind="runaway"
    )
    assert stage.on_command(label, BASE_TIME).memories[0].label == "runaway"
    result = RemediationResult(
        request_id=action.request_id,
        node_id="n01",
        action=action.action,
        outcome="succeeded",
        started_at=BASE_TIME,
        finished_at=BASE_TIME + timedelta(seconds=5),
    )
    (memory,) = stage.on_result(result).memories
    assert memory.actions[0].outcome == "succeeded"
    (rating,) = stage.book.ratings()
    assert (rating.kind, rating.action, rating.worked, rating.tried) == (
        "runaway",
        "stop_process",
        1,
        1,
    )


def test_a_dry_run_is_remembered_as_a_proposal_but_rates_nothing() -> None:
    outputs, incident_id = _opened_and_acked()
    stage = _stage()
    stage.restore(_latest(outputs))
    (action,) = stage.book.records[incident_id].actions
    dry = RemediationResult(
        request_id=action.request_id,
        node_id="n01",
        action=action.action,
        outcome="dry_run",
        started_at=BASE_TIME,
        finished_at=BASE_TIME,
    )
    assert stage.on_result(dry).memories[0].actions[0].outcome == "dry_run"
    assert stage.book.ratings() == []


def test_a_false_positive_mutes_its_series_on_its_node_only() -> None:
    stage = _stage()
    at = BASE_TIME + timedelta(seconds=20)
    stage.on_anomaly(event_at("n01", 0), at)
    incident_id = stage.tick(at).incidents[0].incident_id
    dismiss = make_command(OPERATOR, "false_positive", at, incident_id=incident_id)
    assert stage.on_command(dismiss, at).memories[0].false_positive
    # the incident resolves; the same deviation on the same node opens nothing within the mute
    stage.tick(at + timedelta(seconds=400))
    stage.on_anomaly(event_at("n01", 500), at)
    stage.on_anomaly(event_at("n02", 500), at)  # another node still pages
    paged = stage.tick(BASE_TIME + timedelta(seconds=520)).incidents
    assert [i.node_id for i in paged] == ["n02"]
    assert stage.counters.anomalies_muted == 1
    # after the mute the series pages again
    stage.on_anomaly(event_at("n01", 4000), at)
    later = stage.tick(BASE_TIME + timedelta(seconds=4020)).incidents
    assert [i.node_id for i in later if i.status == "open"] == ["n01"]


def test_feedback_needs_a_signature_and_a_known_incident() -> None:
    stage = _stage()
    unknown = make_command(
        OPERATOR, "label", BASE_TIME, incident_id="inc-x", fault_kind="disk_full"
    )
    assert stage.on_command(unknown, BASE_TIME).memories == []
    forged = unknown.model_copy(update={"fault_kind": "cpu_saturation"})
    assert stage.on_command(forged, BASE_TIME) == StageOutput()
    assert stage.counters.commands_refused == 1
