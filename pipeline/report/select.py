"""Which incidents, anomalies and series a report shows first: pure ranking, no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pipeline.models import SEVERITY_RANK
from pipeline.store.incidents import IncidentRecord
from pipeline.store.records import AnomalyRecord
from pipeline.store.timerange import TimeRange

SeriesKey = tuple[str, str]


def top_incidents(incidents: Iterable[IncidentRecord], limit: int) -> list[IncidentRecord]:
    """Unresolved before resolved, then severity, blast radius and event count."""

    def rank(incident: IncidentRecord) -> tuple[int, int, int, int]:
        return (
            incident.status != "resolved",
            SEVERITY_RANK.get(incident.severity, 0),
            incident.affected_count,
            incident.event_count,
        )

    return sorted(incidents, key=rank, reverse=True)[:limit]


def top_anomalies(anomalies: Iterable[AnomalyRecord], limit: int) -> list[AnomalyRecord]:
    """Highest score first; ties by severity then newest."""
    return sorted(
        anomalies,
        key=lambda a: (a.score, SEVERITY_RANK.get(a.severity, 0), a.window_start_at),
        reverse=True,
    )[:limit]


def by_series(anomalies: Iterable[AnomalyRecord]) -> dict[SeriesKey, list[AnomalyRecord]]:
    """Series-scope anomalies grouped by (node, metric), each list oldest first."""
    grouped: dict[SeriesKey, list[AnomalyRecord]] = defaultdict(list)
    for anomaly in anomalies:
        if anomaly.metric is not None:
            grouped[(anomaly.node_id, anomaly.metric)].append(anomaly)
    return {key: sorted(found, key=lambda a: a.window_start_at) for key, found in grouped.items()}


def top_series(
    grouped: dict[SeriesKey, list[AnomalyRecord]], limit: int, exclude: Iterable[SeriesKey] = ()
) -> list[SeriesKey]:
    """Series with the highest peak score first (then most windows), skipping ``exclude``."""
    skip = set(exclude)
    ranked = sorted(
        (key for key in grouped if key not in skip),
        key=lambda key: (max(a.score for a in grouped[key]), len(grouped[key]), key),
        reverse=True,
    )
    return ranked[:limit]


def incident_series(
    incident: IncidentRecord, grouped: dict[SeriesKey, list[AnomalyRecord]], limit: int
) -> list[SeriesKey]:
    """Series that explain an incident: its nodes × its metrics, the ones with anomalies first."""
    nodes = [incident.node_id] if incident.node_id else list(incident.affected_nodes)
    metrics = list(incident.metrics)
    if incident.first_metric and incident.first_metric in metrics:
        metrics.remove(incident.first_metric)
        metrics.insert(0, incident.first_metric)
    candidates = [(node, metric) for node in nodes for metric in metrics]
    flagged = [key for key in candidates if key in grouped]
    return (flagged or candidates)[:limit]


def panel_range(windows: Sequence[AnomalyRecord], report: TimeRange) -> TimeRange:
    """Around a series' flagged windows with context either side, clipped to the report range."""
    if not windows:
        return report
    first: datetime = min(w.window_start_at for w in windows)
    last: datetime = max(w.window_end_at for w in windows)
    context = max(timedelta(minutes=10), (last - first) * 2)
    return TimeRange(max(first - context, report.start_at), min(last + context, report.stop_at))
