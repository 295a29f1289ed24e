"""Factories shared by the remediation unit tests (all offline)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from influxdb_client import Point

from pipeline.config import ControlSettings, RemediationSettings
from pipeline.control.keys import Keyring, Signer, generate
from pipeline.control.signing import new_nonce, sign_one
from pipeline.models import AnomalyEvent, RemediationRequest, utc_now
from tests.conftest import BASE_TIME, make_event

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)
KEY, ISSUER_ENTRY = generate("issuer", "fleet", EPOCH, FAR)  # the incident stage's key
OPERATOR, OPERATOR_ENTRY = generate("operator", "alice", EPOCH, FAR)
# What someone who took over a node can make: their own key pair, unknown to the keyring (the
# node holds public keys only), even if they name it after the issuer.
OTHER_KEY, _ = generate("issuer", "fleet", EPOCH, FAR)
KEYRING = Keyring([ISSUER_ENTRY, OPERATOR_ENTRY])


class ListSink:
    """A ``Sink`` that keeps points in a list (settled at once), so tests read the audit trail."""

    def __init__(self) -> None:
        self.points: list[Point] = []

    def start(self) -> None:
        pass

    def add_many(self, points: Iterable[Point]) -> int:
        self.points.extend(points)
        return len(self.points)

    @property
    def settled(self) -> int:
        return len(self.points)

    def flush(self, timeout_s: float = 10.0) -> bool:
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        pass

    def steps(self) -> list[str]:
        return [p._tags["step"] for p in self.points if p._name == "remediation_audit"]


def settings(**overrides: Any) -> RemediationSettings:
    return RemediationSettings(**overrides)


def control(**overrides: Any) -> ControlSettings:
    return ControlSettings(**overrides)


def split(**overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``overrides`` as (node fields, control fields), so one test call can set both."""
    shared = {k: v for k, v in overrides.items() if k in ControlSettings.model_fields}
    return {k: v for k, v in overrides.items() if k not in shared}, shared


def event_at(node: str, seconds: float, **overrides: Any) -> AnomalyEvent:
    at = BASE_TIME + timedelta(seconds=seconds)
    fields: dict[str, Any] = {
        "event_id": f"e-{node}-{seconds}",
        "node_id": node,
        "labels": {"role": "web", "zone": "z1"},
        "window_start_at": at,
        "window_end_at": at + timedelta(seconds=10),
    }
    return make_event(**(fields | overrides))


def request(key: Signer = KEY, **overrides: Any) -> RemediationRequest:
    now = utc_now()
    fields: dict[str, Any] = {
        "request_id": "rq-1",
        "node_id": "node-1",
        "incident_id": "inc-1",
        "action": "drop_caches",
        "params": {"level": 1},
        "reason": "test",
        "issued_at": now,
        "expires_at": now + timedelta(minutes=5),
        "nonce": new_nonce(),
        "blast_nodes": 1,
    }
    return sign_one(RemediationRequest(**(fields | overrides)), key)
