"""Messages → InfluxDB points; tags are what operators filter by, fields what they plot.

Point time is the sample (or window) time, and the tag set identifies the series, so writing the
same message twice overwrites one point instead of adding another: at-least-once delivery becomes
idempotent storage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from pipeline.detect.base import SeriesScore
from pipeline.models import AnomalyEvent, MetricBatch

METRICS_MEASUREMENT = "metrics"
ANOMALIES_MEASUREMENT = "anomalies"
SCORES_MEASUREMENT = "scores"
HOST_METRIC = "_host"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the ``metric`` tag of host-level scores and events


def metric_points(batch: MetricBatch) -> list[str]:
    """One line per metric of the batch (line protocol); measurement ``metrics``, field ``value``.

    Lines rather than ``Point`` objects, here and in :func:`score_points`: the worker writes one
    per metric and series of every batch, and a ``Point`` cost ~37 µs, most of the worker's time
    on a 100-metric batch. They are the lines ``Point.to_line_protocol`` writes (tested).
    """
    lines = _Lines(METRICS_MEASUREMENT, batch.labels, batch.node_id, batch.sampled_at)
    return [lines.line({"value": value}, metric=name) for name, value in batch.metrics.items()]


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
) -> list[str]:
    """The host score and every series' score of one batch; measurement ``scores``.

    Field ``score`` always; series points add ``expected`` so a chart can draw the model's band.
    """
    lines = _Lines(SCORES_MEASUREMENT, labels, node_id, at)
    host = lines.line({"score": host_score}, metric=HOST_METRIC, detector=detector)
    scored = (
        lines.line({"score": s.score, "expected": s.expected}, metric=s.metric, detector=s.detector)
        for s in series
    )
    return [line for line in (host, *scored) if line]


class _Lines:
    """Line-protocol lines of one node at one time: its labels escaped once, then one per row.

    As ``Point`` writes them: tags sorted, the core tags (``node`` and a row's own) winning a
    clash with a label, empty tags and non-finite fields left out (no field left: no line).
    """

    def __init__(self, measurement: str, labels: dict[str, str], node_id: str, at: datetime):
        self.measurement = measurement
        tags = {_escaped(k): _escaped(v) for k, v in {**labels, "node": node_id}.items()}
        self.tags = sorted((k, v) for k, v in tags.items() if k and v)
        self.stamp = (at - EPOCH) // timedelta(milliseconds=1)
        self._layouts: dict[tuple[str, ...], list[str]] = {}

    def line(self, fields: dict[str, float], **tags: str) -> str:
        """One line with the node's tags plus ``tags``, or "" when no field is finite."""
        values = ",".join(
            f"{k}={_number(v)}" for k, v in sorted(fields.items()) if math.isfinite(v)
        )
        if not values:
            return ""
        keys = tuple(sorted(tags))
        layout = self._layouts.get(keys) or self._layout(keys)
        parts = [layout[0]]
        for key, between in zip(keys, layout[1:], strict=True):
            value = _escaped(tags[key])
            parts.append(f",{key}={value}{between}" if value else between)
        return f"{self.measurement}{''.join(parts)} {values} {self.stamp}"

    def _layout(self, keys: tuple[str, ...]) -> list[str]:
        """The node's tags before the first row key, between each two, and after the last."""
        bounds = ("", *keys, "\U0010ffff")
        layout = [
            "".join(f",{k}={v}" for k, v in self.tags if low < k < high and k not in keys)
            for low, high in zip(bounds, bounds[1:], strict=False)
        ]
        self._layouts[keys] = layout
        return layout


def _escaped(text: str) -> str:
    """A tag key or value as line protocol escapes it (commas, equals signs, spaces)."""
    return text.translate(_TAG_ESCAPES)


def _number(value: float) -> str:
    """A float field as ``Point`` writes it: ``str()``, a whole number without its ``.0``."""
    text = str(float(value))
    return text[:-2] if text.endswith(".0") else text


_TAG_ESCAPES = str.maketrans(
    {",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"}
)


def _labelled(point: Point, labels: dict[str, str]) -> Point:
    """Labels become tags first, so the core tags set after them always win a name clash."""
    for key, label in labels.items():
        point = point.tag(key, label)
    return point
