"""Rows a typed query selects from InfluxDB: anomalies, forecasts, incidents, actions, metrics.

Every row is a flat dict with ``at`` (ISO time) and ``node`` first; filters InfluxDB can apply are
in the Flux (via :mod:`pipeline.store.query`), the rest (roles, kinds) are applied here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.ask.model import AskQuery
from pipeline.ask.vocabulary import Vocabulary
from pipeline.config import InfluxSettings
from pipeline.store.flux import FluxQuery
from pipeline.store.incidents import ACTIONS_MEASUREMENT, filter_incidents
from pipeline.store.points import METRICS_MEASUREMENT
from pipeline.store.query import AnomalyFilter, query_anomalies, query_incidents, run_flux
from pipeline.store.timerange import TimeRange

Row = dict[str, Any]
_MAX_EVENTS = 20_000  # an answer summarises; more than this in one range is a question too wide
_METRIC_EVERY_S = 3600  # metrics are read as hourly means: answers are about hours and days


def fetch_rows(
    query: AskQuery, influx: InfluxSettings, vocabulary: Vocabulary, now_at: datetime
) -> list[Row]:
    """Every row ``query`` selects, newest first (before aggregation)."""
    time_range = query.time_range(now_at)
    metrics = vocabulary.expand(query.metrics)
    if query.metrics and not metrics:
        return []  # a family the store holds no metric of: nothing can match
    readers = {"anomalies": _events, "forecasts": _events, "incidents": _incidents,
               "actions": _actions, "metrics": _metrics}  # fmt: skip
    rows = readers[query.what](query, influx, time_range, metrics, vocabulary)
    return sorted(rows, key=lambda row: (row["at"], row["node"]), reverse=True)


def _events(
    query: AskQuery, influx: InfluxSettings, time_range: TimeRange, metrics: tuple[str, ...],
    vocabulary: Vocabulary,
) -> list[Row]:  # fmt: skip
    selection = AnomalyFilter(time_range, query.nodes, metrics, query.severities)
    records = query_anomalies(influx, selection, limit=_MAX_EVENTS)
    rows = [
        {"at": r.window_start_at.isoformat(), "node": r.node_id, "metric": r.metric or "_host",
         "severity": r.severity, "why": r.why(), "role": r.labels.get("role") or
         vocabulary.role_of.get(r.node_id, "")}
        for r in records
        if query.what != "forecasts" or r.reason == "forecast"
    ]  # fmt: skip
    return [row for row in rows if not query.roles or row["role"] in query.roles]


def _incidents(
    query: AskQuery, influx: InfluxSettings, time_range: TimeRange, metrics: tuple[str, ...],
    vocabulary: Vocabulary,
) -> list[Row]:  # fmt: skip
    records = filter_incidents(query_incidents(influx, time_range), query.nodes, metrics,
                               query.severities)  # fmt: skip
    kinds = _incident_kinds(influx, time_range)
    rows = [
        {"at": r.opened_at.isoformat(), "node": r.node_id or ",".join(r.affected_nodes),
         "incident": r.incident_id, "severity": r.severity, "status": r.status,
         "kind": kinds.get(r.incident_id, "unknown"), "metric": r.first_metric or "",
         "role": _group_role(r.group) or vocabulary.role_of.get(r.node_id or "", "")}
        for r in records
    ]  # fmt: skip
    return _of_roles_and_kinds(rows, query)


def _actions(
    query: AskQuery, influx: InfluxSettings, time_range: TimeRange, metrics: tuple[str, ...],
    vocabulary: Vocabulary,
) -> list[Row]:  # fmt: skip
    del metrics  # actions are per incident and node, not per metric
    rows = [
        {"at": values["_time"].isoformat(), "node": str(values["node"]),
         "incident": str(values["incident_id"]), "action": str(values["action"]),
         "kind": str(values["kind"]), "outcome": str(values.get("outcome") or "pending"),
         "role": vocabulary.role_of.get(str(values["node"]), "")}
        for values in _action_values(influx, time_range, query.nodes)
    ]  # fmt: skip
    return _of_roles_and_kinds(rows, query)


def _metrics(
    query: AskQuery, influx: InfluxSettings, time_range: TimeRange, metrics: tuple[str, ...],
    vocabulary: Vocabulary,
) -> list[Row]:  # fmt: skip
    nodes = query.nodes or vocabulary.nodes_of(query.roles)
    if query.roles and not nodes:
        return []
    flux = (
        FluxQuery(influx.bucket, time_range.start_at, time_range.stop_at, METRICS_MEASUREMENT)
        .where_any("node", nodes).where_any("metric", metrics).where_any("_field", ["value"])
        .then(f"aggregateWindow(every: {_METRIC_EVERY_S}s, fn: mean, createEmpty: false)")
        .render()
    )  # fmt: skip
    return [
        {"at": row["_time"].isoformat(), "node": str(row["node"]), "metric": str(row["metric"]),
         "value": round(float(row["_value"]), 3),
         "role": vocabulary.role_of.get(str(row["node"]), "")}
        for row in run_flux(influx, flux)
    ]  # fmt: skip


def _action_values(
    influx: InfluxSettings, time_range: TimeRange, nodes: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    flux = (
        FluxQuery(influx.bucket, time_range.start_at, time_range.stop_at, ACTIONS_MEASUREMENT)
        .where_any("node", nodes)
        .then('pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")')
        .then("group()")
        .render()
    )
    return run_flux(influx, flux)


def _incident_kinds(influx: InfluxSettings, time_range: TimeRange) -> dict[str, str]:
    """Diagnosis kind per incident, as its remediation steps recorded it."""
    return {str(v["incident_id"]): str(v["kind"]) for v in _action_values(influx, time_range)}


def _group_role(group: str) -> str:
    pairs = dict(part.split("=", 1) for part in group.split(",") if "=" in part)
    return pairs.get("role", "")


def _of_roles_and_kinds(rows: list[Row], query: AskQuery) -> list[Row]:
    """The rows of the question's roles and fault kinds (all when it names none)."""
    return [
        row for row in rows
        if (not query.roles or row["role"] in query.roles)
        and (not query.kinds or row["kind"] in query.kinds)
    ]  # fmt: skip
