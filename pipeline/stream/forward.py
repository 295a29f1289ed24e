"""Direct forwarding of critical anomalies as approval-gated RemediationRequests.

A stand-in until the incident logic of the remediation stage issues requests itself: it is off by
default (``StreamSettings.forward_remediation``). Every field derives from the event, so a replayed
event yields a byte-identical request with the same ``request_id`` and agents act at most once.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pipeline.models import AnomalyEvent, RemediationRequest

ACTION = "diagnose"  # not on any allowlist: an operator must approve and choose the real action
REQUEST_TTL = timedelta(minutes=10)


def request_id_for(event_id: str, action: str) -> str:
    """Deterministic request id of ``action`` taken for the event ``event_id``.

    Examples
    --------
    >>> request_id_for("evt-1", "diagnose") == request_id_for("evt-1", "diagnose")
    True
    >>> request_id_for("evt-1", "diagnose") == request_id_for("evt-2", "diagnose")
    False
    """
    digest = hashlib.sha256(f"{event_id}\x00{action}".encode()).hexdigest()
    return f"rq-{digest[:32]}"


def request_for(event: AnomalyEvent) -> RemediationRequest | None:
    """The request that a critical event asks for, or None for lesser severities."""
    if event.severity != "critical":
        return None
    request_id = request_id_for(event.event_id, ACTION)
    subject = event.metric or "host"
    return RemediationRequest(
        request_id=request_id,
        node_id=event.node_id,
        incident_id=f"inc-{hashlib.sha256(event.event_id.encode()).hexdigest()[:32]}",
        action=ACTION,
        reason=f"critical anomaly on {subject} (score {event.score:.2f})",
        issued_at=event.window_end_at,
        expires_at=event.window_end_at + REQUEST_TTL,
        nonce=hashlib.sha256(request_id.encode()).hexdigest()[:32],
        requires_approval=True,
    )
