"""A fixed synthetic fleet history for ``eval ask``: 11 nodes in 3 roles over three days.

Deterministic (seeded) and relative to a fixed ``NOW_AT``, written in the layouts the pipeline
writes (``anomalies``, ``incidents``, ``incident_actions``, ``metrics``), so the gold questions
have the same answers on every run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from pipeline.store.incidents import ACTIONS_MEASUREMENT, INCIDENTS_MEASUREMENT
from pipeline.store.points import ANOMALIES_MEASUREMENT, METRICS_MEASUREMENT

NOW_AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
ROLE_OF = {**{f"web-0{i}": "web" for i in range(1, 7)}, "db-01": "db", "db-02": "db",
           "db-03": "db", "cache-01": "cache", "cache-02": "cache"}  # fmt: skip
METRICS = ("cpu.usage_user", "mem.used_percent", "disk.root.used_percent", "net.rx_drop")
KINDS = ("memory_leak", "disk_full", "cpu_saturation", "network_degradation", "process_crash")
_ACTION_OF = {"memory_leak": "restart_service", "disk_full": "clean_logs",
              "cpu_saturation": "renice_process", "network_degradation": "notify",
              "process_crash": "restart_service"}  # fmt: skip
_HOURS = 72
# Incidents placed on purpose so "the last disk full on db nodes" has an answer: node, kind, h ago.
_PLACED = (
    ("db-02", "disk_full", 5.5), ("web-05", "memory_leak", 9.0), ("db-03", "process_crash", 2.5),
    ("web-02", "cpu_saturation", 30.0), ("cache-02", "network_degradation", 14.0),
)  # fmt: skip


def synthetic_points(seed: int = 7) -> list[Point]:
    """Every point of the data set."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    return _metrics(rng) + _anomalies(rng) + _incidents(rng)


def _at(hours_ago: float) -> datetime:
    return NOW_AT - timedelta(hours=hours_ago)


def _metrics(rng: random.Random) -> list[Point]:
    points = []
    for node, role in ROLE_OF.items():
        base = {metric: rng.uniform(10, 70) for metric in METRICS}
        for hour in range(_HOURS):
            for metric in METRICS:
                value = base[metric] + rng.uniform(-5, 5) + (hour % 24) / 4
                point = Point(METRICS_MEASUREMENT).tag("role", role).tag("node", node)
                points.append(point.tag("metric", metric).field("value", round(value, 2))
                              .time(_at(_HOURS - hour - 0.5), WritePrecision.MS))  # fmt: skip
    return points


def _anomalies(rng: random.Random) -> list[Point]:
    points = []
    for index in range(160):
        node = rng.choice(sorted(ROLE_OF))
        metric = rng.choice(METRICS)
        forecast = metric in METRICS[1:3] and rng.random() < 0.35
        start = _at(rng.uniform(0.05, _HOURS - 0.1))
        point = (
            Point(ANOMALIES_MEASUREMENT).tag("role", ROLE_OF[node]).tag("node", node)
            .tag("metric", metric).tag("scope", "series")
            .tag("severity", rng.choice(("warning", "warning", "critical", "info")))
            .tag("detector", "synthetic").field("score", round(rng.uniform(0.5, 1.0), 3))
            .field("threshold", 0.5).field("event_id", f"ev{index:04d}")
            .field("window_start_ms", int(start.timestamp() * 1000))
            .field("window_end_ms", int(start.timestamp() * 1000) + 60_000)
            .field("reason", "forecast" if forecast else "score")
        )  # fmt: skip
        if forecast:
            point = point.field("exhaustion_eta_s", float(rng.randint(3600, 20_000)))
        points.append(point.time(start, WritePrecision.MS))
    return points


def _incidents(rng: random.Random) -> list[Point]:
    points = []
    drawn = [(rng.choice(sorted(ROLE_OF)), rng.choice(KINDS), rng.uniform(0.5, _HOURS - 1))
             for _ in range(40)]  # fmt: skip
    for index, (node, kind, hours_ago) in enumerate(drawn + list(_PLACED)):
        opened = _at(hours_ago)
        incident_id = f"inc{index:03d}"
        points.append(
            Point(INCIDENTS_MEASUREMENT).tag("incident_id", incident_id).tag("kind", "host")
            .tag("status", rng.choice(("open", "resolved"))).tag("node", node)
            .tag("severity", rng.choice(("warning", "critical")))
            .field("title", f"{kind} on {node}").field("dedup_key", incident_id)
            .field("metrics", METRICS[KINDS.index(kind) % 4]).field("affected_nodes", node)
            .field("group", f"role={ROLE_OF[node]}").field("affected_count", 1)
            .field("event_count", 3).field("opened_at_ms", int(opened.timestamp() * 1000))
            .field("first_metric", METRICS[KINDS.index(kind) % 4])
            .time(opened, WritePrecision.MS)
        )  # fmt: skip
        acted = opened + timedelta(minutes=rng.randint(2, 30))
        points.append(
            Point(ACTIONS_MEASUREMENT).tag("incident_id", incident_id).tag("node", node)
            .tag("action", _ACTION_OF[kind]).tag("step", "issued").tag("kind", kind)
            .field("request_id", f"req{index:03d}")
            .field("outcome", rng.choice(("succeeded", "dry_run", "failed")))
            .time(min(acted, NOW_AT - timedelta(seconds=1)), WritePrecision.MS)
        )  # fmt: skip
    return points
