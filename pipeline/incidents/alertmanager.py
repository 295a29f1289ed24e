"""Incidents as Prometheus Alertmanager alerts: the v2 API payload and one POST of a batch."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import TypedDict

from pipeline.errors import SinkUnavailable
from pipeline.models import Incident


class Alert(TypedDict):
    """Alertmanager v2 ``postableAlert`` (the fields fleetwatch sets)."""

    labels: dict[str, str]
    annotations: dict[str, str]
    startsAt: str  # noqa: N815 - Alertmanager's field name
    endsAt: str  # noqa: N815 - Alertmanager's field name


#: Incident labels copied onto the alert when present (the node's or the group's value).
ROUTING_LABELS = ("role", "zone", "team", "service")


def alert_labels(incident: Incident) -> dict[str, str]:
    """Labels that identify the alert in Alertmanager and that routes match on.

    Alertmanager identifies an alert by its label set, so an escalation (a new severity) is a
    new alert; the notifier resolves the previous one.
    """
    labels = {
        "alertname": f"Fleetwatch{incident.kind.capitalize()}Incident",
        "incident_id": incident.incident_id,
        "kind": incident.kind,
        "severity": incident.severity,
    }
    if incident.node_id is not None:
        labels["node"] = incident.node_id
    context = incident.labels | incident.group
    labels |= {name: context[name] for name in ROUTING_LABELS if name in context}
    return labels


def alert_annotations(incident: Incident, runbook: str | None, report_url: str) -> dict[str, str]:
    """Human text: summary, diagnosis hints, the runbook rule chosen and a report link."""
    annotations = {"summary": incident.title}
    if diagnosis := _diagnosis_text(incident):
        annotations["diagnosis"] = diagnosis
    if runbook:
        annotations["runbook"] = runbook
    if report_url:
        annotations["report"] = report_url.format(incident_id=incident.incident_id)
    if incident.population:
        annotations["blast_radius"] = f"{incident.affected_count}/{incident.population} nodes"
    return annotations


def alert_of(incident: Incident, ends_at: datetime, annotations: dict[str, str]) -> Alert:
    """The v2 ``postableAlert`` for ``incident``, ending at ``ends_at``."""
    alert = Alert(
        labels=alert_labels(incident),
        annotations=annotations,
        startsAt=_rfc3339(incident.opened_at),
        endsAt="",
    )
    return ending_at(alert, ends_at)


def ending_at(alert: Alert, at: datetime) -> Alert:
    """``alert`` ending at ``at``: in the future it keeps firing, in the past it is resolved.

    A replay or a time-compressed simulation opens incidents at data times ahead of the wall
    clock; Alertmanager refuses an alert that ends before it starts, so the start is clamped.
    """
    ends_at = _rfc3339(at)
    return Alert(
        labels=alert["labels"],
        annotations=alert["annotations"],
        startsAt=min(alert["startsAt"], ends_at),  # same fixed-width format: compares as time
        endsAt=ends_at,
    )


def post_alerts(base_url: str, alerts: list[Alert], timeout_s: float = 5.0) -> None:
    """POST ``alerts`` to ``{base_url}/api/v2/alerts``.

    Raises
    ------
    SinkUnavailable
        When Alertmanager does not answer or answers 5xx/429 (worth retrying).
    ValueError
        When Alertmanager refuses the payload (4xx): retrying the same alerts cannot help.
    """
    request = urllib.request.Request(  # noqa: S310 - operator-configured http(s) URL
        f"{base_url.rstrip('/')}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):  # noqa: S310
            return
    except urllib.error.HTTPError as exc:
        if exc.code < 500 and exc.code != 429:
            detail = exc.read(300).decode(errors="replace")
            raise ValueError(f"Alertmanager refused the alerts: HTTP {exc.code} {detail}") from None
        raise SinkUnavailable(f"Alertmanager answered HTTP {exc.code}", 1.0) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SinkUnavailable(f"Alertmanager at {base_url} unreachable: {exc}", 1.0) from None


def _diagnosis_text(incident: Incident) -> str:
    hints = incident.hints
    parts = [
        f"{top.metric} observed {top.observed:g} vs expected {top.expected:g}"
        if top.observed is not None and top.expected is not None
        else top.metric
        for top in hints.top[:3]
    ]
    if hints.first_metric:
        parts.insert(0, f"first: {hints.first_metric}")
    if hints.similar:
        past = hints.similar[0]
        fixed = f", fixed by {past.action} ({past.outcome})" if past.action else ""
        parts.append(f"similar to {past.incident_id}{fixed}")
    return "; ".join(parts)


def _rfc3339(at: datetime) -> str:
    """UTC with a ``Z``, as Alertmanager writes it (fleetwatch datetimes are always aware UTC)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
