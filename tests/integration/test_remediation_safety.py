"""Authenticity and blast radius against real Kafka and InfluxDB: forged, replayed and expired
requests are refused and audited; approvals come from `fleetwatch approve`; a fleet-wide fault on
50 simulated nodes is one incident and only the allowed share of requests is issued."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.control.keys import Signer, generate
from pipeline.control.signing import new_nonce, sign_one
from pipeline.models import (
    AnomalyEvent,
    Incident,
    InventoryRecord,
    RemediationRequest,
    RemediationResult,
    utc_now,
)
from tests.integration.remediation_support import (
    KEY,
    OPERATOR_ENV,
    audit_rows,
    collect,
    control_settings,
    incident_stage,
    node_remediator,
    node_settings,
    publish,
    publish_raw,
    stage_settings,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _request(
    node: str, request_id: str, key: Signer = KEY, **overrides: object
) -> RemediationRequest:
    now = utc_now()
    fields: dict[str, object] = {
        "request_id": request_id,
        "node_id": node,
        "incident_id": "inc-test",
        "action": "drop_caches",
        "params": {"level": 1},
        "reason": "integration test",
        "issued_at": now,
        "expires_at": now + timedelta(minutes=5),
        "nonce": new_nonce(),
        "blast_nodes": 1,
    }
    return sign_one(RemediationRequest(**(fields | overrides)), key)  # type: ignore[arg-type]


def test_forged_replayed_expired_refused_and_approval_via_cli(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    tmp_path: Path,
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    node = f"auth-{uuid.uuid4().hex[:6]}"
    caches = tmp_path / "drop_caches"  # the test's own stand-in for /proc/sys/vm/drop_caches
    caches.write_text("0\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    old_log = logs / "old.log"
    old_log.write_text("x")
    os.utime(old_log, (0, 0))
    settings = node_settings(tmp_path, apply=True, drop_caches_path=caches, clean_roots=[logs])
    old = utc_now() - timedelta(hours=1)
    good = _request(node, "rq-good")
    # What an attacker on a node can sign with: a key pair of their own (the node holds only
    # public keys), even under the issuer's name.
    attacker, _ = generate("issuer", "fleet", old, utc_now() + timedelta(days=1))
    forged = _request(node, "rq-forged", key=attacker)
    expired = _request(node, "rq-expired", issued_at=old, expires_at=old + timedelta(minutes=5))
    unsigned = _request(node, "rq-unsigned").model_copy(update={"signature": None})
    risky = _request(
        node, "rq-risky", action="clean_files", params={"path": str(logs), "older_than_days": 1}
    )
    topic = topics.REMEDIATION.name(topic_settings.prefix)
    remediator, ready = node_remediator(kafka, topic_settings, settings, node)
    # The incident stage (no runbook: it issues nothing) writes the node's audit to InfluxDB.
    with incident_stage(kafka, topic_settings, influx, stage_settings()), remediator:
        ready.wait(60)
        messages = [forged, expired, unsigned, good, good, risky]
        publish(kafka, topic, [(node, m) for m in messages])
        publish_raw(kafka, topic, node, b'{"request_id": "rq-garbage"')
        results = collect(
            kafka,
            topic_settings,
            topics.REMEDIATION_RESULTS,
            RemediationResult,
            lambda found: len(found) >= 6,
            60,
        )
        assert old_log.exists(), "a risky action must wait for approval"
        env = os.environ | OPERATOR_ENV
        approve = subprocess.run(
            [sys.executable, "-m", "pipeline", "approve", "rq-risky",
             "--kafka-bootstrap", kafka.bootstrap, "--topic-prefix", topic_settings.prefix],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert approve.returncode == 0, approve.stderr
        results = collect(
            kafka,
            topic_settings,
            topics.REMEDIATION_RESULTS,
            RemediationResult,
            lambda found: len(found) >= 7,
            60,
        )

        def steps(step: str, count: int) -> list[str]:
            rows = [r for r in audit_rows(influx) if r["node"] == node and r["step"] == step]
            return (
                sorted(r["request_id" if step == "refused" else "detail"] for r in rows)
                if len(rows) >= count
                else []
            )

        refused = wait_for(lambda: steps("refused", 4), 30, "refusals audited in InfluxDB")
        approved = wait_for(lambda: steps("approved", 1), 30, "the approval audited")
    outcomes = [(r.request_id, r.outcome) for r in results]
    assert outcomes == [
        ("rq-forged", "refused"),
        ("rq-expired", "refused"),
        ("rq-unsigned", "refused"),
        ("rq-good", "succeeded"),
        ("rq-good", "refused"),
        ("rq-risky", "awaiting_approval"),
        ("rq-risky", "succeeded"),
    ]
    details = {r.request_id: r.detail for r in results if r.outcome == "refused"}
    assert "unknown signing key" in details["rq-forged"] and "expired" in details["rq-expired"]
    assert "unsigned" in details["rq-unsigned"] and "replayed" in details["rq-good"]
    assert caches.read_text() == "1\n" and not old_log.exists()
    assert refused == ["rq-expired", "rq-forged", "rq-good", "rq-unsigned"]
    assert approved == ["by ci-operator"], "the approval names the operator whose key signed it"


def test_fleet_fault_on_50_nodes_is_one_incident_and_blast_radius_limits_actions(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    tmp_path: Path,
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    run = uuid.uuid4().hex[:6]
    web = [f"sim-{run}-web-{i:02d}" for i in range(50)]
    db = [f"sim-{run}-db-{i:02d}" for i in range(10)]
    runbook = tmp_path / "runbook.yaml"
    runbook.write_text(
        "version: 1\nrules:\n  - name: fleet-cpu\n"
        '    match: {metric: "cpu.usage_[!i]*", direction: up, kind: fleet}\n'
        "    action: {type: stop_process, params: {top: cpu}}\n"
    )
    settings = stage_settings(runbook=runbook, settle_s=5)
    control = control_settings(blast_max_share=0.2, blast_max_nodes=100)
    now = utc_now()
    inventory = [
        InventoryRecord(
            node_id=node,
            published_at=now,
            labels={"role": "web" if node in web else "db", "zone": f"z{i % 3}"},
            refresh_s=300.0,
        )
        for i, node in enumerate(web + db)
    ]
    events = [
        AnomalyEvent(
            event_id=f"evt-{node}",
            node_id=node,
            labels={"role": "web", "zone": f"z{i % 3}"},
            scope="series",
            metric="cpu.usage_user",
            window_start_at=now + timedelta(seconds=i * 0.1),
            window_end_at=now + timedelta(seconds=30 + i * 0.1),
            score=0.97,
            threshold=0.9,
            observed=97.0,
            expected=20.0,
            detector="test",
            severity="critical",
        )
        for i, node in enumerate(web)
    ]
    prefix = topic_settings.prefix
    with incident_stage(kafka, topic_settings, influx, settings, control) as stage:
        publish(kafka, topics.INVENTORY.name(prefix), [(r.node_id, r) for r in inventory])
        wait_for(lambda: True, 3, "")  # populations first: the agents announced their nodes
        publish(kafka, topics.ANOMALIES.name(prefix), [(e.node_id, e) for e in events])
        incidents = collect(
            kafka,
            topic_settings,
            topics.INCIDENTS,
            Incident,
            lambda found: any(i.affected_count == 50 for i in found),
            90,
        )
        requests = collect(
            kafka,
            topic_settings,
            topics.REMEDIATION,
            RemediationRequest,
            lambda f: len(f) >= 10,
            60,
        )
        wait_for(lambda: True, 8, "")  # past settle_s: no host incident may appear afterwards
        incidents = collect(kafka, topic_settings, topics.INCIDENTS, Incident, bool, 30)
    counters = stage["result"]
    assert counters.anomalies == 50
    seen = {(i.incident_id, i.kind, i.title, i.status, i.affected_count) for i in incidents}
    assert {i.incident_id for i in incidents} == {incidents[0].incident_id}, seen
    final = incidents[-1]
    assert (final.kind, final.group, final.affected_count) == ("fleet", {"role": "web"}, 50)
    assert (final.population, final.share) == (50, 1.0)
    assert len(requests) == 10 and len({r.node_id for r in requests}) == 10
    assert {r.node_id for r in requests} <= set(web)
    assert counters.requests_issued == 10
    # Partitions may let a zone's incident qualify first; a node refused under it can be admitted
    # once the incident widens to the role. So every node left without a request was refused and
    # audited (at least 40 refusals), and never more than 10 actions went out.
    assert counters.requests_blocked >= 40
    never_issued = set(web) - {r.node_id for r in requests}
    assert len(never_issued) == 40

    def blocked_nodes() -> set[str]:
        return {r["node"] for r in audit_rows(influx) if r["step"] == "blocked"}

    wait_for(lambda: blocked_nodes() >= never_issued, 30, "the 40 refused nodes audited")

    listing = subprocess.run(
        [sys.executable, "-m", "pipeline", "alerts", "--node", web[7], "--role", "web",
         "--severity", "critical", "--kafka-bootstrap", kafka.bootstrap, "--topic-prefix", prefix],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert any("INCIDENT" in line and final.incident_id in line for line in lines)
    assert [line for line in lines if "ANOMALY" in line and web[7] in line]
    assert not [line for line in lines if "ANOMALY" in line and web[8] in line]
