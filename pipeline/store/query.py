"""Flux queries operators and tools run against InfluxDB, returning typed rows.

Every query is assembled by :class:`pipeline.store.flux.FluxQuery` from escaped values; filters
are validated first (:class:`AnomalyFilter`) so a typo is reported by name, not as an empty table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

import urllib3
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient

from pipeline.config import InfluxSettings
from pipeline.errors import QueryError
from pipeline.models import METRIC_NAME_PATTERN, NODE_ID_PATTERN, Severity
from pipeline.store.flux import FluxQuery
from pipeline.store.incidents import (
    INCIDENTS_MEASUREMENT,
    IncidentRecord,
    incident_from_values,
    latest_per_incident,
)
from pipeline.store.points import ANOMALIES_MEASUREMENT, METRICS_MEASUREMENT, SCORES_MEASUREMENT
from pipeline.store.records import (
    HOST_METRIC,
    AnomalyRecord,
    BandPoint,
    SeriesPoint,
    anomaly_from_values,
)
from pipeline.store.timerange import TimeRange

SEVERITIES: tuple[str, ...] = get_args(Severity)
_PIVOT = 'pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'


@dataclass(frozen=True)
class AnomalyFilter:
    """What to select: a time range and, per tag, the values allowed (empty = any).

    Raises
    ------
    ValueError
        When a node, metric or severity could never match, naming the value and what is valid.
    """

    time_range: TimeRange
    nodes: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for node in self.nodes:
            if not re.match(NODE_ID_PATTERN, node):
                raise ValueError(f"--node {node!r} is not a node id (letters, digits, . _ -)")
        for metric in self.metrics:
            if metric != HOST_METRIC and not re.match(METRIC_NAME_PATTERN, metric):
                raise ValueError(
                    f"--metric {metric!r} is not a metric name like cpu.usage_user "
                    f"(or {HOST_METRIC} for host-wide anomalies)"
                )
        for severity in self.severities:
            if severity not in SEVERITIES:
                raise ValueError(f"--severity {severity!r} is not one of {', '.join(SEVERITIES)}")

    def describe(self, **more: tuple[str, ...]) -> str:
        """What was asked, for empty-result messages: ``matching node=a in 10:00 → 11:00 UTC``.

        Without filters only ``in ...`` remains; ``more`` adds filters applied elsewhere.
        """
        filters = {"node": self.nodes, "metric": self.metrics, "severity": self.severities} | more
        parts = [f"{name}={','.join(values)}" for name, values in filters.items() if values]
        where = f"in {self.time_range.describe()}"
        return f"matching {' '.join(parts)} {where}" if parts else where


def anomalies_flux(
    bucket: str, selection: AnomalyFilter, limit: int, order_by: Literal["time", "score"]
) -> str:
    """Flux for anomalies matching ``selection``: one pivoted row each, newest or highest first."""
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    sort_column = "_time" if order_by == "time" else "score"
    query = FluxQuery(
        bucket, selection.time_range.start_at, selection.time_range.stop_at, ANOMALIES_MEASUREMENT
    )
    return (
        query.where_any("node", selection.nodes)
        .where_any("metric", selection.metrics)
        .where_any("severity", selection.severities)
        .then(_PIVOT)
        .then("group()")
        .then(f'sort(columns: ["{sort_column}"], desc: true)')
        .then(f"limit(n: {int(limit)})")
        .render()
    )


def incidents_flux(bucket: str, time_range: TimeRange) -> str:
    """Flux for every incident state recorded in ``time_range``, pivoted, newest first.

    Filters apply after the newest state per incident is chosen (severity and status change over
    an incident's life), so they are not part of the query.
    """
    query = FluxQuery(bucket, time_range.start_at, time_range.stop_at, INCIDENTS_MEASUREMENT)
    return query.then(_PIVOT).then("group()").then('sort(columns: ["_time"], desc: true)').render()


def series_flux(bucket: str, node_id: str, metric: str, time_range: TimeRange, every_s: int) -> str:
    """Flux for one metric series, averaged over ``every_s``-second windows."""
    if every_s < 1:
        raise ValueError(f"every_s must be positive, not {every_s}")
    query = FluxQuery(bucket, time_range.start_at, time_range.stop_at, METRICS_MEASUREMENT)
    return (
        query.where_any("node", [node_id])
        .where_any("metric", [metric])
        .where_any("_field", ["value"])
        .then("group()")
        .then(f"aggregateWindow(every: {int(every_s)}s, fn: mean, createEmpty: false)")
        .render()
    )


def band_flux(bucket: str, node_id: str, metric: str, time_range: TimeRange, every_s: int) -> str:
    """Flux for the detector's expected band of one series (``scores`` measurement)."""
    if every_s < 1:
        raise ValueError(f"every_s must be positive, not {every_s}")
    query = FluxQuery(bucket, time_range.start_at, time_range.stop_at, SCORES_MEASUREMENT)
    return (
        query.where_any("node", [node_id])
        .where_any("metric", [metric])
        .where_any("_field", ["expected_low", "expected_high"])
        .then(f"aggregateWindow(every: {int(every_s)}s, fn: mean, createEmpty: false)")
        .then(_PIVOT)
        .then("group()")
        .then('sort(columns: ["_time"])')
        .render()
    )


def query_anomalies(
    influx: InfluxSettings,
    selection: AnomalyFilter,
    limit: int = 500,
    order_by: Literal["time", "score"] = "time",
) -> list[AnomalyRecord]:
    """Anomalies matching ``selection``, at most ``limit``, newest (or highest score) first.

    Raises
    ------
    QueryError
        When InfluxDB cannot be reached or refuses the query.
    """
    rows = run_flux(influx, anomalies_flux(influx.bucket, selection, limit, order_by))
    return [anomaly_from_values(row) for row in rows]


def query_incidents(influx: InfluxSettings, time_range: TimeRange) -> list[IncidentRecord]:
    """The newest state of every incident that changed within ``time_range``, newest first.

    Raises
    ------
    QueryError
        When InfluxDB cannot be reached or refuses the query.
    """
    rows = run_flux(influx, incidents_flux(influx.bucket, time_range))
    return latest_per_incident(incident_from_values(row) for row in rows)


def query_series(
    influx: InfluxSettings, node_id: str, metric: str, time_range: TimeRange, max_points: int = 400
) -> list[SeriesPoint]:
    """One metric series, downsampled by mean so at most about ``max_points`` come back."""
    every_s = _every_s(time_range, max_points)
    rows = run_flux(influx, series_flux(influx.bucket, node_id, metric, time_range, every_s))
    return [SeriesPoint(row["_time"], float(row["_value"])) for row in rows]


def query_band(
    influx: InfluxSettings, node_id: str, metric: str, time_range: TimeRange, max_points: int = 400
) -> list[BandPoint]:
    """The detector's expected band of one series, empty when the worker stored none."""
    every_s = _every_s(time_range, max_points)
    rows = run_flux(influx, band_flux(influx.bucket, node_id, metric, time_range, every_s))
    return [
        BandPoint(row["_time"], float(row["expected_low"]), float(row["expected_high"]))
        for row in rows
        if row.get("expected_low") is not None and row.get("expected_high") is not None
    ]


def run_flux(influx: InfluxSettings, flux: str) -> list[dict[str, Any]]:
    """Run ``flux`` and return every record's values.

    Raises
    ------
    QueryError
        One line saying whether InfluxDB was unreachable or what it answered.
    """
    try:
        with _client(influx) as client:
            tables = client.query_api().query(flux, org=influx.org)
    except InfluxDBError as exc:
        raise QueryError(f"InfluxDB at {influx.url} refused the query: {_reason(exc)}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise QueryError(
            f"cannot reach InfluxDB at {influx.url}: {type(exc).__name__} "
            "(is it running? set FLEETWATCH_INFLUX_URL or --influx-url)"
        ) from None
    return [record.values for table in tables for record in table.records]


def _every_s(time_range: TimeRange, max_points: int) -> int:
    """Window length that brings a range down to about ``max_points`` points."""
    return max(1, int(time_range.duration_s // max_points) + 1)


def _client(influx: InfluxSettings) -> InfluxDBClient:
    return InfluxDBClient(
        url=influx.url,
        token=influx.token.get_secret_value(),
        org=influx.org,
        timeout=influx.timeout_ms,
    )


def _reason(exc: InfluxDBError) -> str:
    """InfluxDB's own message from the JSON body (1.8 says ``error``, 2.x ``message``)."""
    message: Any = str(exc)
    try:
        parsed = json.loads(getattr(exc, "body", None) or b"")
        message = parsed.get("message") or parsed.get("error") or message
    except (TypeError, ValueError, AttributeError):
        pass
    return " ".join(str(message).split())[:300]
