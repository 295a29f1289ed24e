"""Real faults on this machine, end to end: the real agent samples a process that hogs the CPU,
leaks memory, leaks file descriptors or fills a file system; the real worker detects it, the
incident stage diagnoses the kind and the culprit process and picks the shipped runbook's action,
which reaches that node's remediator as a signed request (dry-run: nothing is touched).

Real Kafka and InfluxDB; the node as ``fleetwatch agent --remediate`` runs it. Each culprit first
runs quietly for the detector's warm-up, then misbehaves; on a shared, loaded machine it is made
the clearest deviation there is (every core busy, 1.5 GiB, thousands of descriptors, a file
system filled to the brim), under a command name no other process has.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from subprocess import Popen

import pytest

from pipeline import topics
from pipeline.agent.collectors.base import instance_name
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.control.keys import load_keyring
from pipeline.control.signing import verify_request
from pipeline.incidents.runbooks import load_runbook
from pipeline.models import (
    Incident,
    MetricBatch,
    RemediationRequest,
    RemediationResult,
    utc_now,
)
from tests.integration import real_fault_support as faults
from tests.integration.remediation_support import (
    collect,
    control_settings,
    incident_stage,
    stage_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
RUNBOOK = Path(__file__).resolve().parents[2] / "deploy" / "runbooks" / "default.yaml"
WINDOW_S = 10  # the worker's anomaly windows: events within seconds of the fault
# The detector scores a series from its 30th sample; the agent samples every second.
WARM_BATCHES = 35


ACTIONABLE = ("warning", "critical")


def run_fault(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    tmp_path: Path,
    culprit: AbstractContextManager[faults.Culprit],
    kind: str,
    expect_some: bool = True,
) -> tuple[Incident, list[RemediationRequest], list[RemediationResult]]:
    """Warm up on this machine, then start the fault. Returns the first incident of the node
    diagnosed ``kind`` with the culprit named, the requests issued for it and the node's results.
    """
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    node = f"real-{uuid.uuid4().hex[:6]}"
    start_worker("w0", "--window-s", str(WINDOW_S))
    stage = stage_settings(runbook=RUNBOOK, diagnosis_every_s=1)
    with culprit as process, incident_stage(kafka, topic_settings, influx, stage):
        agent = faults.start_node(kafka, topic_settings, node, tmp_path, process.name)
        try:
            _published(kafka, topic_settings, node, WARM_BATCHES)
            process.misbehave()
            incident = _diagnosed(kafka, topic_settings, node, kind, process.name, expect_some)
            process.calm()  # diagnosed: give the (loaded) machine its CPU back for the node
            requests, results = _actions_for(kafka, topic_settings, incident, expect_some)
        finally:
            faults.stop_node(agent)
    return incident, requests, results


def _published(kafka: KafkaSettings, topic_settings: TopicSettings, node: str, count: int) -> None:
    """Wait until the node's agent published ``count`` batches (its start is slow when loaded)."""
    collect(
        kafka,
        topic_settings,
        topics.METRICS,
        MetricBatch,
        lambda found: sum(b.node_id == node for b in found) >= count,
        180,
    )


def _diagnosed(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    node: str,
    kind: str,
    culprit: str,
    acted_on: bool,
) -> Incident:
    """The node's first incident diagnosed ``kind`` with ``culprit`` named; with ``acted_on``,
    the first one the runbook also acts on (a rule other than paging matches: the diagnosis is
    as confident as the rule asks). The culprit misbehaves until then, as a real one would.
    """
    runbook = load_runbook(RUNBOOK)

    def right(incident: Incident) -> bool:
        found = incident.diagnosis
        rule = runbook.match_one(incident)
        return (
            incident.node_id == node
            and found is not None
            and (found.kind, found.culprit.process) == (kind, culprit)
            and incident.severity in ACTIONABLE  # the runbook's rules act from warning up
            and (not acted_on or (rule is not None and rule.action.type != "notify"))
        )

    read: list[Incident] = []

    def done(found: list[Incident]) -> bool:
        read[:] = found
        return any(map(right, found))

    try:
        seen = collect(kafka, topic_settings, topics.INCIDENTS, Incident, done, 150)
    except AssertionError as exc:  # say what it was diagnosed instead, in a line each
        instead = "; ".join(dict.fromkeys(_verdict(i) for i in read if i.node_id == node))
        raise AssertionError(
            f"no {kind} incident naming {culprit} on {node} ({str(exc)[:60]}); "
            f"its incidents were: {instead or 'none'}"
        ) from None
    return next(i for i in seen if right(i))


def _verdict(incident: Incident) -> str:
    """One incident's diagnosis, short: kind, confidence, culprit, severity, runner-up, evidence."""
    found = incident.diagnosis
    if found is None:
        return f"{incident.severity} undiagnosed"
    others = ", ".join(f"{v.kind} {v.confidence}" for v in found.alternatives[:2])
    return (
        f"{found.kind} {found.confidence} culprit={found.culprit.process} {incident.severity}"
        f" (then {others or 'nothing'}; evidence {found.evidence[:2]})"
    )


def _actions_for(
    kafka: KafkaSettings, topic_settings: TopicSettings, incident: Incident, expect_some: bool
) -> tuple[list[RemediationRequest], list[RemediationResult]]:
    """The requests issued for ``incident`` and the node's result for each of them.

    With ``expect_some`` False, none is expected: the topic is read for a while and what was
    issued for the incident (nothing, when right) is returned.
    """

    def ours(request: RemediationRequest) -> bool:
        return request.incident_id == incident.incident_id

    try:
        requests = collect(
            kafka,
            topic_settings,
            topics.REMEDIATION,
            RemediationRequest,
            lambda found: any(map(ours, found)),
            60 if expect_some else 30,
        )
    except AssertionError:
        if expect_some:
            raise
        return [], []
    ids = {r.request_id for r in requests if ours(r)}
    results = collect(
        kafka,
        topic_settings,
        topics.REMEDIATION_RESULTS,
        RemediationResult,
        lambda found: ids <= {r.request_id for r in found},
        120,
    )
    return [r for r in requests if ours(r)], [r for r in results if r.request_id in ids]


def test_cpu_hog_is_diagnosed_and_its_process_asked_to_stop(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    tmp_path: Path,
) -> None:
    hog = faults.culprit(faults.CPU_HOG, "cpu", tmp_path)
    incident, requests, results = run_fault(
        kafka, influx, topic_settings, start_worker, tmp_path, hog, "cpu_saturation"
    )
    (request,) = requests
    name = incident.diagnosis.culprit.process  # type: ignore[union-attr]  # checked by run_fault
    assert (request.node_id, request.action) == (incident.node_id, "stop_process")
    assert request.params["pattern"] == f"^{name}$"
    verify_request(request, load_keyring(control_settings().keyring), utc_now())
    (result,) = results
    assert (result.node_id, result.outcome) == (incident.node_id, "dry_run")
    assert "would stop" in result.detail, result.detail


def test_memory_leak_is_diagnosed_and_a_leaker_in_no_unit_is_paged_not_restarted(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    tmp_path: Path,
) -> None:
    leak = faults.culprit(faults.MEMORY_LEAK, "mem", tmp_path)
    incident, requests, results = run_fault(
        kafka, influx, topic_settings, start_worker, tmp_path, leak, "memory_leak", False
    )
    name = incident.diagnosis.culprit.process  # type: ignore[union-attr]  # checked by run_fault
    evidence = incident.diagnosis.evidence  # type: ignore[union-attr]
    assert any(line.startswith(f"proc.{name}.rss_bytes up") for line in evidence), evidence
    # The leaker is the test's child, in no systemd unit: no unit.* series follows it, so there
    # is no unit to restart and the runbook pages a human instead of guessing "<name>.service".
    assert incident.diagnosis.culprit.unit is None  # type: ignore[union-attr]
    assert (requests, results) == ([], [])


def test_fd_leak_is_diagnosed_and_a_holder_in_no_unit_is_paged_not_restarted(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    tmp_path: Path,
) -> None:
    leak = faults.culprit(faults.FD_LEAK, "fd", tmp_path)
    incident, requests, results = run_fault(
        kafka, influx, topic_settings, start_worker, tmp_path, leak, "fd_exhaustion", False
    )
    assert incident.diagnosis.culprit.unit is None  # type: ignore[union-attr]  # no unit owns it
    assert (requests, results) == ([], [])


def test_filled_file_system_is_diagnosed_with_its_writer_and_cleanup_awaits_approval(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    tmp_path: Path,
) -> None:
    with faults.small_filesystem(tmp_path) as mount_point:
        filler = faults.culprit(faults.DISK_FILLER, "disk", tmp_path, str(mount_point))
        incident, requests, results = run_fault(
            kafka, influx, topic_settings, start_worker, tmp_path, filler, "disk_full"
        )
    mount = instance_name(str(mount_point))
    evidence = incident.diagnosis.evidence  # type: ignore[union-attr]  # checked by run_fault
    assert any(line.startswith(f"disk.{mount}.used_percent up") for line in evidence), evidence
    (request,) = requests
    assert (request.node_id, request.action) == (incident.node_id, "clean_files")
    assert request.requires_approval
    (result,) = results
    assert (result.node_id, result.outcome) == (incident.node_id, "awaiting_approval")
