"""Gather a report's data from InfluxDB and write the HTML page (the only I/O of the report)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.config import InfluxSettings
from pipeline.errors import FleetwatchError
from pipeline.report.band import rolling_band
from pipeline.report.page import ReportData, render_page
from pipeline.report.select import (
    SeriesKey,
    by_series,
    incident_series,
    panel_range,
    top_anomalies,
    top_incidents,
    top_series,
)
from pipeline.report.series_chart import SeriesPanel
from pipeline.store.query import (
    AnomalyFilter,
    query_anomalies,
    query_band,
    query_incidents,
    query_series,
)
from pipeline.store.records import AnomalyRecord
from pipeline.store.timerange import TimeRange

ROLLING_BAND = "rolling median ± 3σ (MAD) of the preceding points"
MODEL_BAND = "the detector's expected range"


@dataclass(frozen=True)
class ReportLimits:
    """How much one report reads and draws."""

    max_anomalies: int = 5000
    incidents: int = 20
    incident_charts: int = 5
    charts_per_incident: int = 3
    series_charts: int = 8
    top_anomalies: int = 15


def build_report(
    influx: InfluxSettings,
    time_range: TimeRange,
    generated_at: datetime,
    limits: ReportLimits | None = None,
) -> ReportData:
    """Read anomalies, incidents and the series behind them; rank what to show.

    Raises
    ------
    QueryError
        When InfluxDB cannot be reached or refuses a query.
    """
    limits = limits or ReportLimits()
    anomalies = query_anomalies(influx, AnomalyFilter(time_range), limits.max_anomalies)
    incidents = top_incidents(query_incidents(influx, time_range), limits.incidents)
    grouped = by_series(anomalies)
    incident_panels = {
        incident.incident_id: [
            _panel(influx, key, grouped.get(key, []), time_range)
            for key in incident_series(incident, grouped, limits.charts_per_incident)
        ]
        for incident in incidents[: limits.incident_charts]
    }
    shown = {(p.node_id, p.metric) for panels in incident_panels.values() for p in panels}
    series_panels = [
        _panel(influx, key, grouped[key], time_range)
        for key in top_series(grouped, limits.series_charts, exclude=shown)
    ]
    return ReportData(
        time_range=time_range,
        generated_at=generated_at,
        source=f"InfluxDB {influx.url}, bucket {influx.bucket}",
        anomalies=anomalies,
        incidents=incidents,
        top_anomalies=top_anomalies(anomalies, limits.top_anomalies),
        incident_panels=incident_panels,
        series_panels=series_panels,
        truncated=len(anomalies) >= limits.max_anomalies,
    )


def _panel(
    influx: InfluxSettings, key: SeriesKey, windows: Sequence[AnomalyRecord], report: TimeRange
) -> SeriesPanel:
    node_id, metric = key
    span = panel_range(windows, report)
    points = query_series(influx, node_id, metric, span)
    # The detector's own band when the worker stored it; otherwise an estimate, labelled as such.
    band = query_band(influx, node_id, metric, span)
    return SeriesPanel(
        node_id=node_id,
        metric=metric,
        start_at=span.start_at,
        stop_at=span.stop_at,
        points=points,
        band=band or rolling_band(points),
        windows=windows,
        band_source=MODEL_BAND if band else ROLLING_BAND,
    )


def write_report(data: ReportData, output: Path) -> int:
    """Write the page to ``output``; returns its size in bytes.

    Raises
    ------
    FleetwatchError
        When the file cannot be written.
    """
    page = render_page(data).encode()
    try:
        output.write_bytes(page)
    except OSError as exc:
        raise FleetwatchError(f"cannot write report to {output}: {exc.strerror}") from None
    return len(page)
