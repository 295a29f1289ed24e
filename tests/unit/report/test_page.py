"""The HTML page and what it chooses to show."""

from __future__ import annotations

import re
from datetime import timedelta

from pipeline.report.band import rolling_band
from pipeline.report.page import ReportData, render_page
from pipeline.report.select import (
    by_series,
    incident_series,
    panel_range,
    top_anomalies,
    top_incidents,
    top_series,
)
from pipeline.report.series_chart import SeriesPanel
from pipeline.store.timerange import TimeRange
from tests.unit.report.conftest import (
    at,
    make_anomaly,
    make_incident_record,
    sine_points,
    svgs_in,
)

HOUR = TimeRange(at(0), at(3600))


def report_data(**overrides) -> ReportData:
    anomalies = [make_anomaly("web-1", 600), make_anomaly("db-1", 900, severity="warning")]
    points = sine_points()
    chart = SeriesPanel("web-1", "cpu.usage_user", at(0), at(1200), points, rolling_band(points),
                        anomalies[:1], "rolling")  # fmt: skip
    fields = {
        "time_range": HOUR, "generated_at": at(3600), "source": "InfluxDB test",
        "anomalies": anomalies, "incidents": [make_incident_record()],
        "top_anomalies": anomalies, "incident_panels": {"inc-1": [chart]},
        "series_panels": [chart],
    }  # fmt: skip
    return ReportData(**(fields | overrides))


def test_page_is_self_contained_with_all_sections() -> None:
    html = render_page(report_data())
    for heading in ("Fleet anomaly timeline", "Top incidents", "Top anomalies", "Most anomalous"):
        assert heading in html
    assert len(svgs_in(html)) == 3  # timeline + incident chart + series chart
    assert not re.search(r"<script|<link|src=|https?://(?!www\.w3\.org/2000/svg)", html)
    assert "<b>2</b><span>anomaly events</span>" in html
    assert "<b>1</b><span>incidents (1 open)</span>" in html


def test_page_escapes_every_value() -> None:
    evil = "<img src=x onerror=alert(1)>"
    data = report_data(
        source=evil,
        incidents=[make_incident_record(title=evil, incident_id="inc-1")],
        top_anomalies=[make_anomaly("web-1", 600, detector=evil)],
    )
    html = render_page(data)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_empty_report_says_so() -> None:
    html = render_page(
        report_data(
            anomalies=[], incidents=[], top_anomalies=[], incident_panels={}, series_panels=[]
        )  # fmt: skip
    )
    assert "No anomalies were flagged in this range." in html
    assert "No incidents were recorded in this range." in html
    assert svgs_in(html) == []


def test_top_incidents_put_open_critical_wide_first() -> None:
    incidents = [
        make_incident_record(incident_id="resolved", status="resolved", affected_count=40),
        make_incident_record(incident_id="warn", severity="warning"),
        make_incident_record(incident_id="wide", affected_count=9),
        make_incident_record(incident_id="narrow"),
    ]
    assert [i.incident_id for i in top_incidents(incidents, 3)] == ["wide", "narrow", "warn"]


def test_series_ranking_and_incident_series() -> None:
    anomalies = [
        make_anomaly("a", 100, score=0.99),
        make_anomaly("b", 100, score=0.91),
        make_anomaly("b", 200, score=0.92),
        make_anomaly("c", 100, metric=None, scope="host"),  # host-wide: no series to draw
    ]
    grouped = by_series(anomalies)
    assert set(grouped) == {("a", "cpu.usage_user"), ("b", "cpu.usage_user")}
    assert top_series(grouped, 5) == [("a", "cpu.usage_user"), ("b", "cpu.usage_user")]
    assert top_series(grouped, 5, exclude=[("a", "cpu.usage_user")]) == [("b", "cpu.usage_user")]
    assert [a.score for a in top_anomalies(anomalies, 2)] == [0.99, 0.95]
    fleet = make_incident_record(
        kind="fleet", node_id=None, affected_nodes=("x", "b", "a"),
        metrics=("mem.used_percent", "cpu.usage_user"), first_metric="cpu.usage_user",
    )  # fmt: skip
    # Flagged series first; the first deviating metric leads.
    assert incident_series(fleet, grouped, 2) == [("b", "cpu.usage_user"), ("a", "cpu.usage_user")]
    unflagged = make_incident_record(node_id="z", metrics=("disk.root.used_percent",))
    assert incident_series(unflagged, grouped, 3) == [("z", "disk.root.used_percent")]


def test_panel_range_adds_context_and_clips_to_the_report() -> None:
    windows = [make_anomaly("a", 1800)]
    span = panel_range(windows, HOUR)
    assert span.start_at == at(1800) - timedelta(minutes=10)
    assert span.stop_at == at(1860) + timedelta(minutes=10)
    assert panel_range([make_anomaly("a", 30)], HOUR).start_at == HOUR.start_at
    assert panel_range([], HOUR) == HOUR
