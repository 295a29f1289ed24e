"""The ``incidents`` measurement: one point per published Incident state, and reading it back.

Layout (what ``fleetwatch incidents``, the report and Grafana read):

* measurement ``incidents``, point time = ``Incident.updated_at`` (ms), so every lifecycle change
  (open → updated → resolved) is kept and the newest point per ``incident_id`` is the current
  state; republishing the same state overwrites the same point (idempotent).
* tags: ``incident_id``, ``kind`` (host|fleet), ``status`` (open|updated|resolved), ``severity``,
  ``node`` (the node of a host incident, ``_fleet`` for a fleet incident).
* fields: ``title`` (str), ``dedup_key`` (str), ``metrics`` and ``affected_nodes`` (comma-joined
  str), ``group`` (``k=v`` pairs comma-joined), ``affected_count``, ``event_count``,
  ``reopen_count`` (int), ``share`` (float, optional), ``population`` (int, optional),
  ``opened_at_ms``, ``resolved_at_ms`` (int, the latter only once resolved), ``first_metric``,
  ``owner``, ``acknowledged_by`` (str, optional), ``flapping``, ``silenced`` (bool).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from pipeline.models import ActionRecord, Incident, RememberedIncident

INCIDENTS_MEASUREMENT = "incidents"
ACTIONS_MEASUREMENT = "incident_actions"
FLEET_NODE = "_fleet"  # the node tag of fleet incidents


def incident_point(incident: Incident) -> Point:
    """The point recording one state of ``incident`` (see the module docstring for the layout)."""
    point: Point = (
        Point(INCIDENTS_MEASUREMENT)
        .tag("incident_id", incident.incident_id)
        .tag("kind", incident.kind)
        .tag("status", incident.status)
        .tag("severity", incident.severity)
        .tag("node", incident.node_id or FLEET_NODE)
        .field("title", incident.title)
        .field("dedup_key", incident.dedup_key)
        .field("metrics", ",".join(incident.metrics))
        .field("affected_nodes", ",".join(incident.affected_nodes))
        .field("group", ",".join(f"{k}={v}" for k, v in sorted(incident.group.items())))
        .field("affected_count", incident.affected_count)
        .field("event_count", incident.event_count)
        .field("reopen_count", incident.reopen_count)
        .field("opened_at_ms", _ms(incident.opened_at))
        .field("flapping", incident.flapping)
        .field("silenced", incident.silenced)
    )
    optional = {
        "share": incident.share,
        "population": incident.population,
        "resolved_at_ms": _ms(incident.resolved_at) if incident.resolved_at else None,
        "first_metric": incident.hints.first_metric,
        "owner": incident.owner,
        "acknowledged_by": incident.acknowledged_by,
    }
    for name, value in optional.items():
        if value is not None:
            point = point.field(name, value)
    point.time(incident.updated_at, WritePrecision.MS)  # Point's setters update it in place
    return point


@dataclass(frozen=True)
class IncidentRecord:
    """The state of one incident as read from the ``incidents`` measurement."""

    incident_id: str
    kind: str
    status: str
    severity: str
    title: str
    node_id: str | None
    metrics: tuple[str, ...]
    affected_nodes: tuple[str, ...]
    affected_count: int
    event_count: int
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    share: float | None = None
    group: str = ""
    first_metric: str | None = None
    owner: str | None = None

    def as_row(self) -> dict[str, Any]:
        """Flat JSON-able dict (ISO times, lists comma-joined) for --json and --csv."""
        return {name: _plain(getattr(self, name)) for name in self.__dataclass_fields__}


def incident_from_values(values: Mapping[str, Any]) -> IncidentRecord:
    """One pivoted Flux row of ``incidents`` → IncidentRecord.

    Raises
    ------
    ValueError
        When a core column (incident_id, kind, status, severity, title, ...) is missing.
    """
    try:
        node = str(values.get("node") or FLEET_NODE)
        return IncidentRecord(
            incident_id=str(values["incident_id"]),
            kind=str(values["kind"]),
            status=str(values["status"]),
            severity=str(values["severity"]),
            title=str(values.get("title") or ""),
            node_id=None if node == FLEET_NODE else node,
            metrics=_split(values.get("metrics")),
            affected_nodes=_split(values.get("affected_nodes")),
            affected_count=int(values.get("affected_count") or 1),
            event_count=int(values.get("event_count") or 1),
            opened_at=_from_ms(values.get("opened_at_ms")) or values["_time"],
            updated_at=values["_time"],
            resolved_at=_from_ms(values.get("resolved_at_ms")),
            share=None if values.get("share") is None else float(values["share"]),
            group=str(values.get("group") or ""),
            first_metric=values.get("first_metric") or None,
            owner=values.get("owner") or None,
        )
    except KeyError as exc:
        raise ValueError(f"incident row without column {exc.args[0]!r}") from None


def latest_per_incident(records: Iterable[IncidentRecord]) -> list[IncidentRecord]:
    """Keep the newest state of each incident, newest update first."""
    latest: dict[str, IncidentRecord] = {}
    for record in records:
        seen = latest.get(record.incident_id)
        if seen is None or record.updated_at > seen.updated_at:
            latest[record.incident_id] = record
    return sorted(latest.values(), key=lambda r: r.updated_at, reverse=True)


def filter_incidents(
    records: Sequence[IncidentRecord],
    nodes: Sequence[str] = (),
    metrics: Sequence[str] = (),
    severities: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> list[IncidentRecord]:
    """Incidents touching one of ``nodes`` (own or affected), ``metrics``...; empty = any."""

    def keep(record: IncidentRecord) -> bool:
        touched = {record.node_id, *record.affected_nodes}
        return (
            (not nodes or bool(touched & set(nodes)))
            and (not metrics or bool(set(record.metrics) & set(metrics)))
            and (not severities or record.severity in severities)
            and (not statuses or record.status in statuses)
        )

    return [record for record in records if keep(record)]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(epoch_ms: Any) -> datetime | None:
    return None if epoch_ms is None else datetime.fromtimestamp(int(epoch_ms) / 1000, tz=UTC)


def _split(joined: Any) -> tuple[str, ...]:
    return tuple(part for part in str(joined or "").split(",") if part)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return ",".join(value)
    return value


def action_point(memory: RememberedIncident, action: ActionRecord, kind: str) -> Point:
    """One remediation step of an incident in ``incident_actions``, to query outcomes by kind.

    Tags ``incident_id``, ``node``, ``action``, ``step`` (issued|blocked) and ``kind`` (the
    operator's label, else the diagnosis, else ``unknown``); fields ``request_id`` and ``outcome``
    (``pending`` until the node answers; ``dry_run`` is a proposal). Time = the step's time (ms),
    so the outcome overwrites the pending point of the same step.
    """
    point: Point = (
        Point(ACTIONS_MEASUREMENT)
        .tag("incident_id", memory.incident.incident_id)
        .tag("node", action.node_id)
        .tag("action", action.action)
        .tag("step", action.step)
        .tag("kind", kind)
        .field("request_id", action.request_id)
        .field("outcome", action.outcome or "pending")
    )
    point.time(action.at, WritePrecision.MS)  # Point's setters update it in place
    return point
