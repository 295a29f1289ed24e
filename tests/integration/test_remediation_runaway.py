"""A runaway process the test starts: detected → incident → signed request → dry-run → apply
stops it → verification sees recovery → audit trail in InfluxDB. Real Kafka and InfluxDB."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.models import AnomalyEvent, Incident, RemediationRequest, RemediationResult, utc_now
from pipeline.remediate.processes import candidates, read_process
from tests.integration.remediation_support import (
    audit_rows,
    collect,
    incident_stage,
    node_remediator,
    node_settings,
    publish,
    stage_settings,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
PROC = Path("/proc")


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
        '    match: {metric: "cpu.*", severity: [critical], kind: host}\n'
        f"    action: {{type: stop_process, params: {{pattern: '{marker}', top: cpu}}}}\n"
        "    verify: {metric: cpu.usage_user, below: 5}\n"
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
        metric="cpu.usage_user",
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

    dry_run, dry_ready = node_remediator(kafka, topic_settings, influx, dry, node)
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
    assert incident.hints.first_metric == "cpu.usage_user"
    assert (request.incident_id, request.node_id, request.action) == (
        incident.incident_id,
        node,
        "stop_process",
    )
    assert request.signature is not None
    assert dry_result.outcome == "dry_run" and str(process.pid) in dry_result.detail
    assert process.poll() is None, "dry-run must not touch the process"

    apply_run, apply_ready = node_remediator(
        kafka, topic_settings, influx, applying, node, probe=lambda metric: cpu_percent_of(marker)
    )
    with apply_run:
        results = collect(
            kafka,
            topic_settings,
            topics.REMEDIATION_RESULTS,
            RemediationResult,
            lambda found: len(found) >= 2,
            90,
        )
    final = results[-1]
    assert final.outcome == "succeeded", final.detail
    assert "recovered: cpu.usage_user=0.0" in final.detail
    assert process.wait(timeout=10) is not None

    def trail() -> list[str]:
        rows = [r for r in audit_rows(influx) if r.get("request_id") == request.request_id]
        steps = [r["step"] for r in sorted(rows, key=lambda r: r["_time"])]
        return steps if "verified" in steps else []

    steps = wait_for(trail, 30, "the audit trail in InfluxDB")
    assert steps == ["issued", "received", "dry_run", "received", "executed", "verified"]
