"""Rows read back from InfluxDB become typed records; the incidents layout round-trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.models import DiagnosisHints, Incident
from pipeline.store.incidents import (
    IncidentRecord,
    filter_incidents,
    incident_from_values,
    incident_point,
    latest_per_incident,
)
from pipeline.store.records import anomaly_from_values

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def anomaly_row(**overrides: Any) -> dict[str, Any]:
    """A row as Flux returns it after pivoting the anomalies measurement."""
    row = {
        "result": "_result", "table": 0, "_start": T0, "_stop": T0 + timedelta(hours=1),
        "_time": T0, "_measurement": "anomalies", "node": "web-1", "metric": "cpu.usage_user",
        "scope": "series", "severity": "critical", "detector": "hw", "role": "web", "zone": "z1",
        "score": 0.97, "threshold": 0.9, "event_id": "e-1",
        "window_start_ms": int(T0.timestamp() * 1000),
        "window_end_ms": int(T0.timestamp() * 1000) + 60_000,
        "observed": 98.0, "expected": 20.0, "expected_low": 10.0, "expected_high": 30.0,
    }  # fmt: skip
    return row | overrides


def test_anomaly_row_becomes_a_record_with_labels() -> None:
    record = anomaly_from_values(anomaly_row())
    assert (record.node_id, record.metric, record.severity) == (
        "web-1",
        "cpu.usage_user",
        "critical",
    )
    assert record.window_end_at - record.window_start_at == timedelta(seconds=60)
    assert (record.expected_low, record.expected_high, record.observed) == (10.0, 30.0, 98.0)
    assert record.labels == {"role": "web", "zone": "z1"}
    row = record.as_row()
    assert row["labels"] == "role=web,zone=z1"
    assert row["window_start_at"] == "2026-01-01T00:00:00+00:00"


def test_host_anomaly_has_no_metric_and_optional_fields_may_be_missing() -> None:
    values = anomaly_row(metric="_host", scope="host")
    for name in ("observed", "expected", "expected_low", "expected_high", "window_end_ms"):
        del values[name]
    record = anomaly_from_values(values)
    assert record.metric is None
    assert record.series_key == ("web-1", "_host")
    assert record.observed is None
    assert record.window_end_at == record.window_start_at


@pytest.mark.parametrize("missing", ["node", "severity", "score", "metric"])
def test_anomaly_row_without_a_core_column_is_refused(missing: str) -> None:
    values = anomaly_row()
    del values[missing]
    with pytest.raises(ValueError, match=missing):
        anomaly_from_values(values)


def make_incident(**overrides: Any) -> Incident:
    fields: dict[str, Any] = {
        "incident_id": "inc-1", "dedup_key": "host:web-1", "kind": "host", "status": "open",
        "severity": "critical", "title": "CPU runaway on web-1", "node_id": "web-1",
        "metrics": ["cpu.usage_user", "load.load1"], "affected_nodes": ["web-1"],
        "affected_count": 1, "event_count": 4, "opened_at": T0, "updated_at": T0,
        "hints": DiagnosisHints(first_metric="load.load1"),
    }  # fmt: skip
    return Incident(**(fields | overrides))


def point_values(incident: Incident) -> dict[str, Any]:
    """What a pivoted Flux row of the written point holds: tags, fields and _time."""
    point = incident_point(incident)
    time_ms = point._time
    assert isinstance(time_ms, datetime)
    return {**point._tags, **point._fields, "_time": time_ms, "_measurement": point._name}


def test_incident_point_layout() -> None:
    point = incident_point(make_incident(kind="fleet", node_id=None, share=0.5, population=8))
    assert point._name == "incidents"
    assert point._tags == {
        "incident_id": "inc-1", "kind": "fleet", "status": "open", "severity": "critical",
        "node": "_fleet",
    }  # fmt: skip
    assert point._fields["metrics"] == "cpu.usage_user,load.load1"
    assert point._fields["share"] == 0.5
    assert "resolved_at_ms" not in point._fields
    assert point._time == T0


def test_incident_round_trips_through_the_layout() -> None:
    resolved = T0 + timedelta(minutes=9)
    incident = make_incident(status="resolved", updated_at=resolved, resolved_at=resolved)
    record = incident_from_values(point_values(incident))
    assert record.incident_id == "inc-1"
    assert (record.status, record.node_id, record.first_metric) == (
        "resolved",
        "web-1",
        "load.load1",
    )
    assert record.metrics == ("cpu.usage_user", "load.load1")
    assert (record.opened_at, record.updated_at, record.resolved_at) == (T0, resolved, resolved)
    assert record.as_row()["metrics"] == "cpu.usage_user,load.load1"


def test_fleet_incident_reads_back_without_node() -> None:
    values = point_values(make_incident(kind="fleet", node_id=None, affected_nodes=["a", "b"]))
    record = incident_from_values(values)
    assert record.node_id is None
    assert record.affected_nodes == ("a", "b")


def test_latest_state_per_incident_wins_and_newest_comes_first() -> None:
    first = incident_from_values(point_values(make_incident()))
    later = replace(first, status="resolved", updated_at=T0 + timedelta(minutes=5))
    other = replace(first, incident_id="inc-2", updated_at=T0 + timedelta(minutes=1))
    latest = latest_per_incident([later, first, other])
    assert [(r.incident_id, r.status) for r in latest] == [("inc-1", "resolved"), ("inc-2", "open")]


def test_filter_incidents_composes_and_matches_affected_nodes() -> None:
    host = incident_from_values(point_values(make_incident()))
    fleet = incident_from_values(
        point_values(
            make_incident(
                incident_id="inc-9", kind="fleet", node_id=None, severity="warning",
                affected_nodes=["web-1", "web-2"], metrics=["disk.root.used_percent"],
            )
        )
    )  # fmt: skip
    records: list[IncidentRecord] = [host, fleet]
    assert filter_incidents(records, nodes=["web-2"]) == [fleet]
    assert filter_incidents(records, nodes=["web-1"]) == [host, fleet]
    assert filter_incidents(records, nodes=["web-1"], severities=["critical"]) == [host]
    assert filter_incidents(records, metrics=["disk.root.used_percent"], statuses=["open"]) == [
        fleet
    ]
    assert filter_incidents(records, statuses=["resolved"]) == []
