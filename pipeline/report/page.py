"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, no fetches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from pipeline.report.series_chart import SeriesPanel, series_chart
from pipeline.report.timeline import fleet_timeline
from pipeline.store.incidents import IncidentRecord
from pipeline.store.records import AnomalyRecord
from pipeline.store.timerange import TimeRange

_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin:0 0 4px}h2{margin:28px 0 8px;border-bottom:2px solid #ddd;padding-bottom:4px}
.meta{color:#666}.cards{display:flex;gap:12px;margin:16px 0;flex-wrap:wrap}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:26px}.card span{color:#666;font-size:12px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f0f0f0}
.critical{color:#b00;font-weight:bold}.warning{color:#c60}.info{color:#357}
.chart{background:#fff;border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:4px}
.incident{margin:18px 0}.empty{color:#666;font-style:italic}
svg{max-width:100%;height:auto;display:block}
"""


_CHART_KEY = (
    "<p class=meta>Charts: blue line = the metric (window means); pale band = its expected range "
    "(source named on each chart); red shading = flagged windows; red dot = observed value; "
    "dark bar = the detector's expected range when it flagged.</p>"
)


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows; built by :mod:`pipeline.report.build` or by tests."""

    time_range: TimeRange
    generated_at: datetime
    source: str
    anomalies: Sequence[AnomalyRecord]
    incidents: Sequence[IncidentRecord]
    top_anomalies: Sequence[AnomalyRecord]
    incident_panels: Mapping[str, Sequence[SeriesPanel]] = field(default_factory=dict)
    series_panels: Sequence[SeriesPanel] = ()
    truncated: bool = False


def render_page(data: ReportData) -> str:
    """The whole HTML document; every value from the data is HTML-escaped."""
    sections = [
        _header(data),
        "<h2>Fleet anomaly timeline</h2>",
        _timeline(data),
        "<h2>Top incidents</h2>",
        _CHART_KEY,
        _incidents(data),
        "<h2>Top anomalies</h2>",
        _anomaly_table(data.top_anomalies),
        "<h2>Most anomalous series</h2>",
        _panels(data.series_panels, "No other series was flagged."),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>fleetwatch report {escape(data.time_range.describe())}</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(sections) + "</body></html>\n"
    )


def _header(data: ReportData) -> str:
    series = {a.series_key for a in data.anomalies}
    open_incidents = sum(1 for i in data.incidents if i.status != "resolved")
    cards = [
        (len(data.anomalies), "anomaly events" + (" (limit reached)" if data.truncated else "")),
        (sum(1 for a in data.anomalies if a.severity == "critical"), "critical"),
        (len({a.node_id for a in data.anomalies}), "nodes affected"),
        (len(series), "series affected"),
        (len(data.incidents), f"incidents ({open_incidents} open)"),
    ]
    card_html = "".join(
        f"<div class=card><b>{n}</b><span>{escape(t)}</span></div>" for n, t in cards
    )
    return (
        "<h1>fleetwatch report</h1>"
        f"<div class=meta>{escape(data.time_range.describe())} · generated "
        f"{escape(data.generated_at.strftime('%Y-%m-%d %H:%M:%S UTC'))} · "
        f"{escape(data.source)}</div><div class=cards>{card_html}</div>"
    )


def _timeline(data: ReportData) -> str:
    if not data.anomalies:
        return "<p class=empty>No anomalies were flagged in this range.</p>"
    return f"<div class=chart>{fleet_timeline(data.anomalies, data.time_range)}</div>"


def _incidents(data: ReportData) -> str:
    if not data.incidents:
        return "<p class=empty>No incidents were recorded in this range.</p>"
    rows = [
        (
            i.updated_at.strftime("%H:%M:%S"),
            i.incident_id,
            i.kind,
            i.status,
            i.severity,
            i.node_id or i.group or "fleet",
            str(i.affected_count) + (f" ({i.share:.0%})" if i.share is not None else ""),
            str(i.event_count),
            ", ".join(i.metrics[:4]),
            i.title,
        )
        for i in data.incidents
    ]
    headers = ("updated", "id", "kind", "status", "severity", "scope", "hosts", "events")
    table = _table((*headers, "metrics", "title"), rows, severity_column=4)
    cards = [
        f"<div class=incident><h3>{escape(i.incident_id)}: {escape(i.title)}</h3>"
        + _panels(panels, "No metric series recorded for this incident.")
        + "</div>"
        for i in data.incidents
        if (panels := data.incident_panels.get(i.incident_id)) is not None
    ]
    return table + "".join(cards)


def _anomaly_table(anomalies: Sequence[AnomalyRecord]) -> str:
    if not anomalies:
        return "<p class=empty>No anomalies.</p>"
    rows = [
        (
            a.window_start_at.strftime("%H:%M:%S"),
            a.node_id,
            a.metric or "(host)",
            a.severity,
            f"{a.score:.3f}",
            _number(a.observed),
            _band_text(a),
            a.detector,
            a.why(),
        )
        for a in anomalies
    ]
    headers = ("start", "node", "metric", "severity", "score", "observed", "expected")
    return _table((*headers, "detector", "why"), rows, severity_column=3)


def _panels(panels: Sequence[SeriesPanel], empty: str) -> str:
    if not panels:
        return f"<p class=empty>{escape(empty)}</p>"
    return "".join(f"<div class=chart>{series_chart(panel)}</div>" for panel in panels)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], severity_column: int) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{escape(cell)}">{escape(cell)}</td>'
            if index == severity_column
            else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _band_text(anomaly: AnomalyRecord) -> str:
    if anomaly.expected_low is not None and anomaly.expected_high is not None:
        return f"{anomaly.expected_low:.4g} – {anomaly.expected_high:.4g}"
    return _number(anomaly.expected)
