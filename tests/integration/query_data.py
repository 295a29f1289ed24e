"""A small known fleet history written to the real InfluxDB, for query, report and Grafana tests."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from pipeline.config import InfluxSettings
from pipeline.models import AnomalyEvent, DiagnosisHints, Incident, MetricBatch
from pipeline.store.incidents import incident_point
from pipeline.store.points import SCORES_MEASUREMENT, anomaly_point, metric_points

NODES = {"web-1": "web", "web-2": "web", "web-3": "web", "web-4": "web", "db-1": "db"}
STEP_S = 10


@dataclass
class Seeded:
    """What was written, so tests can compare what comes back."""

    now_at: datetime
    events: list[AnomalyEvent] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    def ago(self, minutes: float) -> datetime:
        return self.now_at - timedelta(minutes=minutes)


def write_points(influx: InfluxSettings, points: list[Point | str]) -> None:
    # Lines (metric_points) carry millisecond stamps; Points keep their own precision.
    with InfluxDBClient(url=influx.url, token="", org=influx.org) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            influx.bucket, influx.org, points, write_precision=WritePrecision.MS
        )


def _value(node: str, metric: str, minutes_ago: float) -> float:
    base = 20 + 4 * math.sin(minutes_ago / 3 + len(node))
    if metric == "mem.used_percent":
        base = 45 + 2 * math.cos(minutes_ago / 4)
        if node == "db-1" and minutes_ago < 16:
            base += (16 - minutes_ago) * 3  # a leak
    elif node == "web-1" and 25 <= minutes_ago <= 30:
        base = 95  # a runaway process
    return base


def _metric_batches(seeded: Seeded) -> list[Point]:
    points: list[Point | str] = []
    for step in range(0, 60 * 60, STEP_S):
        minutes_ago = step / 60
        for node, role in NODES.items():
            batch = MetricBatch(
                node_id=node,
                sampled_at=seeded.ago(minutes_ago),
                labels={"role": role},
                metrics={
                    m: _value(node, m, minutes_ago) for m in ("cpu.usage_user", "mem.used_percent")
                },
            )
            points += metric_points(batch)
    return points


def _band_points(seeded: Seeded) -> list[Point]:
    """The detector's band for web-1's CPU only: other series must fall back to the estimate."""
    points = []
    for step in range(0, 60 * 60, STEP_S):
        centre = _value("web-2", "cpu.usage_user", step / 60)
        point = (
            Point(SCORES_MEASUREMENT)
            .tag("node", "web-1")
            .tag("metric", "cpu.usage_user")
            .tag("detector", "hw")
            .field("score", 0.1)
            .field("expected", centre)
            .field("expected_low", centre - 6)
            .field("expected_high", centre + 6)
        )
        points.append(point.time(seeded.ago(step / 60), WritePrecision.MS))
    return points


def _event(seeded: Seeded, node: str, metric: str | None, minutes_ago: float, severity: str,
           score: float) -> AnomalyEvent:  # fmt: skip
    start = seeded.ago(minutes_ago)
    fields: dict[str, Any] = {
        "event_id": f"{node}-{metric or 'host'}-{minutes_ago:g}",
        "node_id": node, "labels": {"role": NODES[node]},
        "scope": "series" if metric else "host", "metric": metric,
        "window_start_at": start, "window_end_at": start + timedelta(seconds=60),
        "score": score, "threshold": 0.9, "detector": "hw", "severity": severity,
    }  # fmt: skip
    if metric:
        observed = _value(node, metric, minutes_ago)
        fields |= {
            "observed": observed,
            "expected": 20.0,
            "expected_low": 14.0,
            "expected_high": 26.0,
        }
    return AnomalyEvent(**fields)


def _incident(seeded: Seeded, incident_id: str, minutes_ago: float, **fields: Any) -> Incident:
    defaults: dict[str, Any] = {
        "incident_id": incident_id, "dedup_key": incident_id, "kind": "host", "status": "open",
        "severity": "warning", "title": incident_id, "affected_count": 1, "event_count": 1,
        "opened_at": seeded.ago(minutes_ago), "updated_at": seeded.ago(minutes_ago),
    }  # fmt: skip
    return Incident(**(defaults | fields))


def seed_fleet(influx: InfluxSettings) -> Seeded:
    """Write an hour of metrics, eight anomalies and three incidents ending now."""
    seeded = Seeded(now_at=datetime.now(UTC).replace(microsecond=0))
    seeded.events = [
        _event(seeded, "web-1", "cpu.usage_user", 30, "critical", 0.99),
        _event(seeded, "web-1", "cpu.usage_user", 28, "critical", 0.98),
        _event(seeded, "web-1", "cpu.usage_user", 26, "critical", 0.97),
        _event(seeded, "web-2", "cpu.usage_user", 29, "warning", 0.93),
        _event(seeded, "db-1", "mem.used_percent", 15, "warning", 0.92),
        _event(seeded, "db-1", "mem.used_percent", 10, "critical", 0.96),
        _event(seeded, "db-1", None, 10, "critical", 0.95),
        _event(seeded, "web-3", "mem.used_percent", 50, "info", 0.91),
    ]
    web1 = {
        "node_id": "web-1",
        "metrics": ["cpu.usage_user"],
        "affected_nodes": ["web-1"],
        "severity": "critical",
        "hints": DiagnosisHints(first_metric="cpu.usage_user"),
    }
    db1 = {"node_id": "db-1", "metrics": ["mem.used_percent"], "affected_nodes": ["db-1"]}
    seeded.incidents = [
        _incident(seeded, "inc-web-1", 30, title="CPU runaway on web-1", **web1),
        _incident(seeded, "inc-web-1", 30, title="CPU runaway on web-1", status="resolved",
                  updated_at=seeded.ago(20), resolved_at=seeded.ago(20), **web1),  # fmt: skip
        _incident(seeded, "inc-fleet-web", 29, kind="fleet", title="CPU on role=web",
                  group={"role": "web"}, metrics=["cpu.usage_user"],
                  affected_nodes=["web-1", "web-2"], affected_count=2, population=4, share=0.5),
        _incident(seeded, "inc-db-1", 15, title="memory leak on db-1", **db1),
        _incident(seeded, "inc-db-1", 15, title="memory leak on db-1", status="updated",
                  severity="critical", updated_at=seeded.ago(10), event_count=3, **db1),
    ]  # fmt: skip
    points = _metric_batches(seeded) + _band_points(seeded)
    points += [anomaly_point(e) for e in seeded.events]
    points += [incident_point(i) for i in seeded.incidents]
    write_points(influx, points)
    return seeded
