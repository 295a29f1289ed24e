"""A runaway process the test starts: detected → incident → signed request → dry-run → apply
stops it → the node's own agent sees the recovery → audit trail in InfluxDB. Real Kafka and
InfluxDB, and the node process as ``fleetwatch agent --remediate --apply`` runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.commands.node import run_node
from pipeline.config import (
    AgentSettings,
    InfluxSettings,
    KafkaSettings,
    RemediationSettings,
    TopicSettings,
)
from pipeline.control.keys import load_keyring
from pipeline.control.signing import verify_request
from pipeline.models import (
    AnomalyEvent,
    Incident,
    MetricBatch,
    RemediationRequest,
    RemediationResult,
    utc_now,
)
from pipeline.remediate.processes import candidates, read_process
from tests.integration.remediation_support import (
    audit_rows,
    collect,
    control_settings,
    incident_stage,
    node_remediator,
    node_settings,
    publish,
    stage_settings,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
PROC = Path("/proc")
# The runaway is niced, so the node's agent sees it as cpu.usage_nice (percent of all CPUs);
# nothing else on the test machine runs niced, so the metric falls below this once it stops.
RECOVER_BELOW = 5


@pytest.fixture
def runaway() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A CPU-burning process of this test (niced, so it only takes idle CPU)."""
    marker = f"fw-runaway-{uuid.uuid4().hex[:8]}"
    code = "import os\nos.nice(19)\nwhile True: pass"
    process = subprocess.Popen([sys.executable, "-c", code, marker])
    yield process, marker
    process.kill()
    process.wait()


def cpu_percent_of(marker: str, sample_s: float = 0.5) -> float:
    """CPU % (of one core) used by the processes whose command line contains ``marker``."""
    before = {p.pid: p.cpu_ticks for p in candidates(PROC, [marker], None)}
    time.sleep(sample_s)
    used = 0
    for pid, ticks in before.items():
        now = read_process(PROC, pid)
        if now is not None:
            used += now.cpu_ticks - ticks
    return 100.0 * used / os.sysconf("SC_CLK_TCK") / sample_s


def test_runaway_process_is_stopped_after_dry_run_and_verified(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    tmp_path: Path,
    runaway: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, marker = runaway
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    node = f"runaway-{uuid.uuid4().hex[:6]}"
    runbook = tmp_path / "runbook.yaml"
    runbook.write_text(
        "version: 1\nrules:\n  - name: runaway-cpu\n"
        '    match: {metric: "cpu.usage_[!i]*", direction: up, severity: [critical], kind: host}\n'
        f"    action: {{type: stop_process, params: {{pattern: '{marker}', top: cpu}}}}\n"
        f"    verify: {{metric: cpu.usage_nice, below: {RECOVER_BELOW}}}\n"
    )
    busy = wait_for(lambda: cpu_percent_of(marker) > 20 or None, 20, "the runaway to burn CPU")
    assert busy
    observed = cpu_percent_of(marker)
    start = utc_now() - timedelta(seconds=30)
    event = AnomalyEvent(
        event_id=f"evt-{node}",
        node_id=node,
        labels={"role": "web"},
        scope="series",
        metric="cpu.usage_nice",
        window_start_at=start,
        window_end_at=start + timedelta(seconds=30),
        score=0.99,
        threshold=0.9,
        observed=observed,
        expected=3.0,
        detector="test",
        severity="critical",
    )
    stage = stage_settings(runbook=runbook)
    dry = node_settings(tmp_path / "dry", process_allowlist=[marker])
    applying = node_settings(tmp_path / "apply", process_allowlist=[marker], apply=True)

    dry_run, dry_ready = node_remediator(kafka, topic_settings, dry, node)
    with incident_stage(kafka, topic_settings, influx, stage), dry_run:
        publish(kafka, topics.ANOMALIES.name(topic_settings.prefix), [(node, event)])
        (incident,) = collect(
            kafka, topic_settings, topics.INCIDENTS, Incident, lambda found: bool(found), 60
        )
        (request,) = collect(
            kafka, topic_settings, topics.REMEDIATION, RemediationRequest, bool, 60
        )
        (dry_result,) = collect(
            kafka, topic_settings, topics.REMEDIATION_RESULTS, RemediationResult, bool, 60
        )
    assert (incident.kind, incident.node_id, incident.status) == ("host", node, "open")
    assert incident.hints.first_metric == "cpu.usage_nice"
    assert (request.incident_id, request.node_id, request.action) == (
        incident.incident_id,
        node,
        "stop_process",
    )
    verify_request(request, load_keyring(control_settings().keyring), utc_now())  # issuer key
    assert dry_result.outcome == "dry_run" and str(process.pid) in dry_result.detail
    assert process.poll() is None, "dry-run must not touch the process"

    # The node as ``agent --remediate --apply`` runs it: its agent samples /proc every second
    # and the executor verifies recovery with the agent's latest sample.
    agent = AgentSettings(
        node_id=node, labels={"role": "web"}, interval_s=1, spool_dir=tmp_path / "spool"
    )
    results = run_node_until(kafka, topic_settings, agent, applying)
    final = results[-1]
    assert final.outcome == "succeeded", final.detail
    seen = re.search(r"recovered: cpu\.usage_nice=(\S+) after", final.detail)
    assert seen is not None, final.detail
    assert float(seen[1]) < RECOVER_BELOW
    # The value the executor judged is one the node's agent sampled, after the action began.
    batches = collect(
        kafka, topic_settings, topics.METRICS, MetricBatch, lambda found: len(found) >= 2, 30
    )
    judged = [b for b in batches if str(b.metrics.get("cpu.usage_nice")) == seen[1]]
    assert judged, f"no batch of the agent has cpu.usage_nice={seen[1]}"
    assert max(b.sampled_at for b in judged) >= final.started_at
    assert {b.node_id for b in batches} == {node}
    assert process.wait(timeout=10) == -signal.SIGTERM  # asked to stop first, not killed

    def trail() -> list[str]:
        rows = [r for r in audit_rows(influx) if r.get("request_id") == request.request_id]
        steps = [r["step"] for r in sorted(rows, key=lambda r: r["_time"])]
        return steps if "verified" in steps else []

    # Nodes publish their audit steps to Kafka; the incident stage writes them to InfluxDB.
    with incident_stage(kafka, topic_settings, influx, stage):
        steps = wait_for(trail, 30, "the audit trail in InfluxDB")
    assert steps == ["issued", "received", "dry_run", "received", "executed", "verified"]


def run_node_until(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    agent: AgentSettings,
    remediation: RemediationSettings,
) -> list[RemediationResult]:
    """Run the node (agent + executor) until the apply phase's result is on the topic."""
    stop = threading.Event()
    node = threading.Thread(
        target=run_node,
        args=(agent, kafka, topic_settings, remediation, control_settings(), stop),
        daemon=True,
    )
    node.start()
    try:
        return collect(
            kafka,
            topic_settings,
            topics.REMEDIATION_RESULTS,
            RemediationResult,
            lambda found: len(found) >= 2,
            90,
        )
    finally:
        stop.set()
        node.join(timeout=60)
