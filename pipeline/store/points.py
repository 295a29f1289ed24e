"""Messages → InfluxDB points; tags are what operators filter by, fields what they plot.

Point time is the sample (or window) time, and the tag set identifies the series, so writing the
same message twice overwrites one point instead of adding another: at-least-once delivery becomes
idempotent storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from pipeline.detect.base import SeriesScore
from pipeline.models import AnomalyEvent, MetricBatch

METRICS_MEASUREMENT = "metrics"
ANOMALIES_MEASUREMENT = "anomalies"
SCORES_MEASUREMENT = "scores"
HOST_METRIC = "_host"  # the ``metric`` tag of host-level scores and events


def metric_points(batch: MetricBatch) -> list[Point]:
    """One point per metric of the batch; measurement ``metrics``, field ``value``."""
    points = []
    for name, value in batch.metrics.items():
        point = _labelled(Point(METRICS_MEASUREMENT), batch.labels)
        point = point.tag("node", batch.node_id).tag("metric", name)
        points.append(point.field("value", float(value)).time(batch.sampled_at, WritePrecision.MS))
    return points


ETA_FIELDS = ("exhaustion_eta_s", "eta_low_s", "eta_high_s")


def anomaly_point(event: AnomalyEvent) -> Point:
    """One point per flagged window, timed at the window start."""
    point: Point = (
        _labelled(Point(ANOMALIES_MEASUREMENT), event.labels)
        .tag("node", event.node_id)
        .tag("metric", event.metric or HOST_METRIC)
        .tag("scope", event.scope)
        .tag("severity", event.severity)
        .tag("detector", event.detector)
    )
    point = (
        point.field("score", event.score)
        .field("threshold", event.threshold)
        .field("event_id", event.event_id)
        .field("window_start_ms", int(event.window_start_at.timestamp() * 1000))
        .field("window_end_ms", int(event.window_end_at.timestamp() * 1000))
    )
    for name in ("observed", "expected", "expected_low", "expected_high", *ETA_FIELDS):
        value = getattr(event, name)
        if value is not None:
            point = point.field(name, float(value))
    point.field("reason", event.reason)
    point.time(event.window_start_at, WritePrecision.MS)  # Point's setters update it in place
    return point


def score_points(
    node_id: str,
    labels: dict[str, str],
    at: datetime,
    host_score: float,
    detector: str,
    series: Iterable[SeriesScore],
) -> list[Point]:
    """The host score and every series' score of one batch; measurement ``scores``.

    Field ``score`` always; series points add ``expected`` so a chart can draw the model's band.
    """
    host = _labelled(Point(SCORES_MEASUREMENT), labels).tag("node", node_id)
    points = [
        host.tag("metric", HOST_METRIC)
        .tag("detector", detector)
        .field("score", float(host_score))
        .time(at, WritePrecision.MS)
    ]
    for item in series:
        point = _labelled(Point(SCORES_MEASUREMENT), labels).tag("node", node_id)
        point = point.tag("metric", item.metric).tag("detector", item.detector)
        point = point.field("score", float(item.score)).field("expected", float(item.expected))
        points.append(point.time(at, WritePrecision.MS))
    return points


def _labelled(point: Point, labels: dict[str, str]) -> Point:
    """Labels become tags first, so the core tags set after them always win a name clash."""
    for key, label in labels.items():
        point = point.tag(key, label)
    return point
