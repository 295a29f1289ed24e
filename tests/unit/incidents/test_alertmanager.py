"""Incidents as Alertmanager alerts: labels, annotations, firing/resolved and buffered retry."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.incidents.alert_sender import AlertmanagerNotifier
from pipeline.incidents.alertmanager import alert_annotations, alert_labels, alert_of
from pipeline.models import DiagnosisHints, Incident, MetricDeviation

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_incident(**overrides: Any) -> Incident:
    fields: dict[str, Any] = {
        "incident_id": "inc-1", "dedup_key": "host:web-1", "kind": "host", "status": "open",
        "severity": "warning", "title": "CPU runaway on web-1", "node_id": "web-1",
        "labels": {"role": "web", "zone": "z1", "rack": "r7"}, "metrics": ["cpu.usage_user"],
        "affected_nodes": ["web-1"], "affected_count": 1, "event_count": 4,
        "opened_at": T0, "updated_at": T0,
    }  # fmt: skip
    return Incident(**(fields | overrides))


def closed_port_url() -> str:
    """An address where nothing listens: Alertmanager 'down'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_labels_carry_routing_context_and_identity() -> None:
    labels = alert_labels(make_incident())
    assert labels == {
        "alertname": "FleetwatchHostIncident", "incident_id": "inc-1", "kind": "host",
        "severity": "warning", "node": "web-1", "role": "web", "zone": "z1",
    }  # fmt: skip


def test_fleet_incident_has_no_node_label_and_takes_its_group() -> None:
    fleet = make_incident(kind="fleet", node_id=None, labels={}, group={"role": "db"})
    labels = alert_labels(fleet)
    assert "node" not in labels
    assert labels["role"] == "db"
    assert labels["alertname"] == "FleetwatchFleetIncident"


def test_annotations_summary_diagnosis_runbook_and_report_link() -> None:
    hints = DiagnosisHints(
        first_metric="cpu.usage_user",
        top=[
            MetricDeviation(metric="cpu.usage_user", observed=97, expected=20, score=1, first_at=T0)
        ],
    )
    annotations = alert_annotations(
        make_incident(hints=hints), "cpu-hog: stop_process", "https://r.example/i/{incident_id}"
    )
    assert annotations["summary"] == "CPU runaway on web-1"
    assert "cpu.usage_user observed 97 vs expected 20" in annotations["diagnosis"]
    assert annotations["runbook"] == "cpu-hog: stop_process"
    assert annotations["report"] == "https://r.example/i/inc-1"


def test_alert_times_are_rfc3339_utc() -> None:
    alert = alert_of(make_incident(), T0 + timedelta(minutes=4), {"summary": "x"})
    assert alert["startsAt"] == "2026-03-01T12:00:00.000Z"
    assert alert["endsAt"] == "2026-03-01T12:04:00.000Z"


def test_an_incident_opened_ahead_of_the_wall_clock_never_ends_before_it_starts() -> None:
    alert = alert_of(make_incident(opened_at=T0 + timedelta(hours=1)), T0, {"summary": "x"})
    assert alert["startsAt"] == alert["endsAt"] == "2026-03-01T12:00:00.000Z"


def notifier(**overrides: Any) -> AlertmanagerNotifier:
    return AlertmanagerNotifier(closed_port_url(), resend_s=30, clock=lambda: T0, **overrides)


def test_open_fires_and_resolve_moves_to_pending_resolution() -> None:
    sender = notifier()
    sender.notify_one(make_incident())
    assert sender.pending() == (1, 0)
    sender.notify_one(make_incident(status="resolved", resolved_at=T0))
    assert sender.pending() == (0, 1)


def test_escalation_resolves_the_old_alert_and_fires_a_new_one() -> None:
    sender = notifier()
    sender.notify_one(make_incident())
    sender.notify_one(make_incident(status="updated", severity="critical"))
    assert sender.pending() == (1, 1)


def test_a_resolution_of_an_incident_never_fired_posts_nothing() -> None:
    sender = notifier()
    sender.notify_one(make_incident(status="resolved", resolved_at=T0))
    assert sender.pending() == (0, 0)


def test_unreachable_alertmanager_keeps_everything_for_the_retry() -> None:
    sender = notifier()
    sender.notify_one(make_incident())
    sender.notify_one(make_incident(incident_id="inc-2", node_id="web-2"))
    sender.notify_one(make_incident(incident_id="inc-2", node_id="web-2", status="resolved"))
    assert sender.flush_once() is False
    assert sender.pending() == (1, 1)
    assert sender.counters.failed_posts == 1
    assert sender.counters.alerts_sent == 0


def test_pending_resolutions_are_bounded_and_drops_counted() -> None:
    sender = notifier(max_pending=2)
    for number in range(3):
        incident = make_incident(incident_id=f"inc-{number}", node_id=f"web-{number}")
        sender.notify_one(incident)
        sender.notify_one(incident.model_copy(update={"status": "resolved"}))
    assert sender.pending() == (0, 2)
    assert sender.counters.dropped == 1
