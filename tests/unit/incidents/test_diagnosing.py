"""The stage diagnoses each incident before a runbook picks its action, and learns from feedback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pipeline.config import IncidentSettings
from pipeline.control.operators import make_command
from pipeline.incidents.changes import ChangeBook
from pipeline.incidents.diagnosing import DiagnosisStep, FrameSource
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.issuer import Issuer
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.runbooks import parse_runbook
from pipeline.incidents.stage import IncidentStage
from pipeline.models import (
    Incident,
    PastIncident,
    RemediationRequest,
    RemediationResult,
    utc_now,
)
from pipeline.store.frames import NodeFrame
from tests.unit.control.conftest import KEY, KEYRING, OPERATOR, ListSink, control, event_at
from tests.unit.incidents.diagnosis.conftest import WINDOW_START_S, make_node

RUNBOOK = parse_runbook("""\
version: 1
rules:
  - name: stop-culprit
    match: {diagnosis: cpu_saturation, kind: host}
    action: {type: stop_process, params: {pattern: "^{culprit}$", top: cpu}}
  - name: page
    match: {diagnosis: [unknown], min_confidence: 0}
    action: {type: notify}
""")
OPENED = datetime.fromtimestamp(WINDOW_START_S, UTC)
HOG = {"cpu.usage_user": 97.0, "cpu.usage_idle": 1.0, "load.load1": 8.0}


def frames_of(window: dict[str, float] | None) -> FrameSource:
    node = make_node({**HOG, "proc.hog.cpu_percent": 180.0} if window else None, node_id="n1")

    def frames(nodes: Sequence[str], start_at: datetime, stop_at: datetime) -> dict[str, NodeFrame]:
        return {"n1": NodeFrame("n1", node.times_s, dict(node.series))} if "n1" in nodes else {}

    return frames


def _stage(window: dict[str, float] | None) -> IncidentStage:
    inventory = Inventory()
    tracker = IncidentTracker(GroupingPolicy(settle_s=0), inventory)
    issuer = Issuer(IncidentSettings(), control(), RUNBOOK, KEY, inventory)
    step = DiagnosisStep(frames_of(window), ChangeBook(1800))
    return IncidentStage(tracker, issuer, ListSink(), KEYRING, diagnosis=step)


def _open(stage: IncidentStage) -> tuple[Incident, list[RemediationRequest], list[PastIncident]]:
    seconds = (OPENED - event_at("n1", 0).window_start_at).total_seconds()
    stage.on_anomaly(event_at("n1", seconds, metric="cpu.usage_user"), utc_now())
    output = stage.tick(OPENED + timedelta(seconds=30))
    return output.incidents[0], output.requests, output.history


def test_a_hog_is_diagnosed_and_its_culprit_is_the_action_target() -> None:
    stage = _stage(HOG)
    incident, requests, history = _open(stage)
    diagnosis = incident.diagnosis
    assert diagnosis is not None
    assert (diagnosis.kind, diagnosis.culprit.node_id, diagnosis.culprit.process) == (
        "cpu_saturation",
        "n1",
        "hog",
    )
    (request,) = requests
    assert request.params["pattern"] == "^hog$"
    assert [r.kind for r in history] == ["cpu_saturation"]


def test_without_series_it_is_unknown_and_a_human_is_paged_not_a_node() -> None:
    stage = _stage(None)
    assert stage.diagnosis is not None
    stage.diagnosis.frames = None
    incident, requests, history = _open(stage)
    assert incident.diagnosis is not None and incident.diagnosis.kind == "unknown"
    assert requests == [] and history == []


def test_a_label_and_a_verified_outcome_reach_the_history() -> None:
    stage = _stage(HOG)
    incident, requests, _ = _open(stage)
    incident_id = incident.incident_id
    label = make_command(
        OPERATOR, "label", utc_now(), incident_id=incident_id, fault_kind="runaway"
    )
    (confirmed,) = stage.on_command(label, utc_now()).history
    assert (confirmed.kind, confirmed.confirmed_by) == ("runaway", label.issued_by)
    assert stage.on_command(label, utc_now()).history == []  # replayed: learned once
    (request,) = requests
    result = RemediationResult(
        request_id=request.request_id,
        node_id="n1",
        action="stop_process",
        outcome="succeeded",
        started_at=utc_now(),
        finished_at=utc_now(),
    )
    (learned,) = stage.on_result(result).history
    assert [(a.action, a.worked) for a in learned.actions] == [("stop_process", True)]


def test_a_diagnosis_without_series_is_tried_again_and_then_acts() -> None:
    # InfluxDB did not answer when the incident opened; the next tick after retry_s reads it.
    stage = _stage(HOG)
    assert stage.diagnosis is not None
    frames, stage.diagnosis.frames = stage.diagnosis.frames, None
    stage.diagnosis.retry_s = 0.0
    incident, requests, _ = _open(stage)
    assert incident.diagnosis is not None and incident.diagnosis.kind == "unknown"
    assert requests == []
    stage.diagnosis.frames = frames
    output = stage.tick(OPENED + timedelta(seconds=40))
    (again,) = output.incidents
    assert again.incident_id == incident.incident_id
    assert again.diagnosis is not None and again.diagnosis.kind == "cpu_saturation"
    (request,) = output.requests
    assert request.params["pattern"] == "^hog$"
    assert stage.diagnosis.retry_due() == set()  # diagnosed now: not tried again
