"""A restart of the incident stage mid-incident (SIGKILL of ``fleetwatch incidents-worker``) keeps
the incident's id and acknowledgement, pages nothing again, issues nothing twice, and a later
anomaly joins the same incident. Real Kafka and InfluxDB; a loopback webhook stands in for the
pager."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.control.keys import load_signer
from pipeline.control.operators import make_command
from pipeline.models import AnomalyEvent, Incident, RemediationRequest, RememberedIncident, utc_now
from tests.conftest import make_event
from tests.integration.remediation_support import (
    ISSUER_KEY_FILE,
    KEYRING_FILE,
    OPERATOR_KEY_FILE,
    collect,
    publish,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
RUNBOOK = """\
version: 1
rules:
  - name: runaway
    match: {metric: "cpu.usage_user", direction: up, severity: [critical]}
    action: {type: stop_process, params: {top: cpu}}
"""


@pytest.fixture
def pager() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback webhook that keeps every incident posted to it."""
    pages: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            pages.append(json.loads(body)["incident"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", pages
    server.shutdown()


@pytest.fixture
def start_stage(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    tmp_path: Path,
    pager: tuple[str, list[dict[str, Any]]],
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start ``fleetwatch incidents-worker`` processes (killed at teardown)."""
    runbook = tmp_path / "runbook.yaml"
    runbook.write_text(RUNBOOK)
    processes: list[subprocess.Popen[bytes]] = []
    env = os.environ | {
        "FLEETWATCH_INFLUX_BUCKET": influx.bucket,
        "FLEETWATCH_TOPICS_PARTITIONS": str(topic_settings.partitions),
        "FLEETWATCH_CONTROL_KEYRING": str(KEYRING_FILE),
        "FLEETWATCH_CONTROL_SIGNING_KEY": str(ISSUER_KEY_FILE),
        "FLEETWATCH_INCIDENTS_SETTLE_S": "1",
        "FLEETWATCH_INCIDENTS_FLEET_WAIT_S": "0",  # n2 pages at once, not held for a fleet
        "FLEETWATCH_INCIDENTS_NOTIFY_URL": pager[0],
    }
    command = [
        *(sys.executable, "-m", "pipeline", "incidents-worker"),
        *("--kafka-bootstrap", kafka.bootstrap, "--influx-url", influx.url),
        *("--topic-prefix", topic_settings.prefix, "--runbook", str(runbook)),
        *("--group-id", f"{topic_settings.prefix}incidents"),
    ]

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / "stage.log").open("ab")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()


def anomaly(node: str, metric: str) -> AnomalyEvent:
    now = utc_now()
    return make_event(
        event_id=f"e-{node}-{metric}-{now.timestamp()}",
        node_id=node,
        metric=metric,
        labels={"role": "web"},
        window_start_at=now - timedelta(seconds=10),
        window_end_at=now,
    )


def test_restart_keeps_id_and_ack_and_pages_nothing_again(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    start_stage: Callable[[], subprocess.Popen[bytes]],
    pager: tuple[str, list[dict[str, Any]]],
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    anomalies, control = topics.ANOMALIES.name(topic_settings.prefix), topics.CONTROL
    stage = start_stage()
    publish(kafka, anomalies, [("n1", anomaly("n1", "cpu.usage_user"))])
    (opened,) = collect(kafka, topic_settings, topics.INCIDENTS, Incident, bool, 60)
    operator = load_signer(OPERATOR_KEY_FILE)
    ack = make_command(operator, "ack", utc_now(), incident_id=opened.incident_id)
    publish(kafka, control.name(topic_settings.prefix), [(ack.command_id, ack)])
    collect(
        kafka,
        topic_settings,
        topics.MEMORY,
        RememberedIncident,
        lambda found: any(m.incident.acknowledged_by == ack.issued_by for m in found),
        60,
    )
    wait_for(lambda: len(pager[1]) == 1, 30, "the first page")

    stage.kill()  # SIGKILL: no shutdown hook runs
    stage.wait()
    start_stage()
    publish(kafka, anomalies, [("n1", anomaly("n1", "cpu.usage_system"))])
    later = collect(
        kafka,
        topic_settings,
        topics.INCIDENTS,
        Incident,
        lambda found: any("cpu.usage_system" in i.metrics for i in found),
        90,
    )[-1]
    assert (later.incident_id, later.status) == (opened.incident_id, "updated")
    assert later.acknowledged_by == ack.issued_by
    # A new incident on another node is paged after anything the restart might have re-paged.
    publish(kafka, anomalies, [("n2", anomaly("n2", "cpu.usage_user"))])
    wait_for(lambda: any(p["node_id"] == "n2" for p in pager[1]), 60, "the page of n2")
    assert [p["incident_id"] for p in pager[1] if p["node_id"] == "n1"] == [opened.incident_id]
    requests = collect(
        kafka,
        topic_settings,
        topics.REMEDIATION,
        RemediationRequest,
        lambda found: any(r.node_id == "n2" for r in found),
        30,
    )
    assert [r.incident_id for r in requests if r.node_id == "n1"] == [opened.incident_id]
