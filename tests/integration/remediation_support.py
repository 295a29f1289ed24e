"""Shared pieces of the remediation integration tests: threads running the real loops, topic
readers and audit queries (real Kafka and InfluxDB, nothing mocked)."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from influxdb_client import InfluxDBClient

from pipeline import topics
from pipeline.bus import make_consumer, make_producer
from pipeline.config import (
    ControlSettings,
    IncidentSettings,
    InfluxSettings,
    KafkaSettings,
    RemediationSettings,
    TopicSettings,
)
from pipeline.control.keys import create_key, load_signer
from pipeline.control.signing import new_nonce, sign_one
from pipeline.incidents.worker import run_incident_stage
from pipeline.models import M, RemediationRequest, WireModel, decode, encode, utc_now
from pipeline.remediate.worker import run_node_remediator


def _make_keys() -> tuple[Path, Path, Path]:
    """An issuer and an operator key pair for the test session, and the keyring nodes get."""
    directory = Path(tempfile.mkdtemp(prefix="fleetwatch-test-keys-"))
    keyring = directory / "keyring.json"
    window = (utc_now() - timedelta(days=1), utc_now() + timedelta(days=1))
    issuer, _ = create_key(directory, keyring, "issuer", "fleet", *window)
    operator, _ = create_key(directory, keyring, "operator", "ci-operator", *window)
    return keyring, issuer, operator


KEYRING_FILE, ISSUER_KEY_FILE, OPERATOR_KEY_FILE = _make_keys()
KEY = load_signer(ISSUER_KEY_FILE)  # the incident stage's private key
OPERATOR_ENV = {
    "FLEETWATCH_CONTROL_KEYRING": str(KEYRING_FILE),
    "FLEETWATCH_CONTROL_SIGNING_KEY": str(OPERATOR_KEY_FILE),
}


def node_settings(tmp_path: Path, **overrides: Any) -> RemediationSettings:
    fields: dict[str, Any] = {"state_dir": tmp_path / "state", "verify_timeout_s": 20}
    return RemediationSettings(**(fields | overrides))


def stage_settings(**overrides: Any) -> IncidentSettings:
    fields: dict[str, Any] = {"settle_s": 1, "incident_gap_s": 120}
    return IncidentSettings(**(fields | overrides))


def control_settings(**overrides: Any) -> ControlSettings:
    fields = {"keyring": KEYRING_FILE, "signing_key": ISSUER_KEY_FILE}
    return ControlSettings(**(fields | overrides))


@contextmanager
def running(target: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Run one of the loops in a thread until the block ends; yields its result holder."""
    stop = threading.Event()
    holder: dict[str, Any] = {}

    def body() -> None:
        try:
            holder["result"] = target(stop=stop.is_set, **kwargs)
        except BaseException as exc:  # surfaced to the test below
            holder["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    try:
        yield holder
    finally:
        stop.set()
        thread.join(timeout=60)
    if "error" in holder:
        raise holder["error"]


def incident_stage(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    influx: InfluxSettings,
    settings: IncidentSettings,
    control: ControlSettings | None = None,
) -> Any:
    return running(
        run_incident_stage,
        kafka=kafka,
        topic_settings=topic_settings,
        influx=influx,
        settings=settings,
        control=control or control_settings(),
        group_id=f"{topic_settings.prefix}incidents",
        tick_s=0.5,
    )


def node_remediator(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    settings: RemediationSettings,
    node_id: str,
    **kwargs: Any,
) -> Any:
    ready = threading.Event()
    context = running(
        run_node_remediator,
        kafka=kafka,
        topic_settings=topic_settings,
        settings=settings,
        control=control_settings(),
        node_id=node_id,
        labels={"role": "web"},
        ready=ready,
        **kwargs,
    )
    return context, ready


def publish(kafka: KafkaSettings, topic: str, messages: list[tuple[str, WireModel]]) -> None:
    producer = make_producer(kafka)
    for key, message in messages:
        producer.send(topic, key=key.encode(), value=encode(message))
    producer.flush(timeout=30)
    producer.close()


def publish_raw(kafka: KafkaSettings, topic: str, key: str, raw: bytes) -> None:
    producer = make_producer(kafka)
    producer.send(topic, key=key.encode(), value=raw)
    producer.flush(timeout=30)
    producer.close()


def collect(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    spec: topics.TopicSpec,
    model: type[M],
    done: Callable[[list[M]], bool],
    deadline_s: float,
) -> list[M]:
    """Read ``spec``'s topic from the start until ``done(messages)`` or the deadline."""
    consumer = make_consumer(
        kafka, spec.name(topic_settings.prefix), group_id=None, consumer_timeout_ms=500
    )
    found: list[M] = []
    deadline = time.monotonic() + deadline_s
    try:
        while time.monotonic() < deadline:
            for record in consumer:
                found.append(decode(model, record.value))
            if done(found):
                return found
    finally:
        consumer.close()
    raise AssertionError(f"timed out after {deadline_s} s on {spec.base_name}: {found[-5:]}")


def audit_rows(influx: InfluxSettings) -> list[dict[str, Any]]:
    """Every remediation_audit step as {node, action, step, request_id, detail}."""
    flux = (
        f'from(bucket: "{influx.bucket}") |> range(start: 2020-01-01T00:00:00Z)'
        ' |> filter(fn: (r) => r._measurement == "remediation_audit")'
        ' |> pivot(rowKey: ["_time", "node", "action", "step"], columnKey: ["_field"],'
        ' valueColumn: "_value")'
    )
    with InfluxDBClient(url=influx.url, token="", org="-") as client:
        tables = client.query_api().query(flux, org="-")
    return [record.values for table in tables for record in table.records]


def signed_drop_caches(node: str, incident_id: str) -> RemediationRequest:
    """A fresh drop_caches request for ``node``, signed by the issuer key, valid 5 minutes."""
    now = utc_now()
    request = RemediationRequest(
        request_id=f"req-{uuid.uuid4().hex[:8]}",
        node_id=node,
        incident_id=incident_id,
        action="drop_caches",
        params={"level": 1},
        reason=f"integration test ({incident_id})",
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        nonce=new_nonce(),
        blast_nodes=1,
    )
    return sign_one(request, KEY)
