"""``fleetwatch bench remediation``: what the node side reads per request, and the issuer's rate.

The issuer plans and signs one request per node for ``requests`` host incidents (Ed25519 included)
and its rate is timed in process. The requests go to a real ``fleet.remediation`` topic. Then
``processes`` worker processes simulate ``nodes`` node remediators: each node reads its own
partition (what its manual assignment fetches), skips other nodes' requests by key and verifies
and dry-runs its own with the real executor. Figures: bytes a node reads per request the fleet
issues, against the whole topic (what every node read before partitioning).
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kafka import TopicPartition

from pipeline import topics
from pipeline.bus import ensure_topics, make_consumer, make_producer, partition_for
from pipeline.config import (
    ControlSettings,
    IncidentSettings,
    KafkaSettings,
    RemediationSettings,
    TopicSettings,
)
from pipeline.control.audit import AuditLog
from pipeline.control.keys import create_key, load_keyring, load_signer
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.issuer import Issuer
from pipeline.incidents.runbooks import parse_runbook
from pipeline.models import (
    DiagnosisHints,
    Incident,
    MetricDeviation,
    RemediationRequest,
    decode,
    encode,
    utc_now,
)
from pipeline.remediate.actions import ActionContext
from pipeline.remediate.executor import NodeRemediator

RUNBOOK = """version: 1
rules:
  - name: memory
    match: {metric: "mem.used_percent", direction: up}
    action: {type: drop_caches, params: {level: 1}}
"""


@dataclass
class RemediationFigures:
    """What one run measured (``--json`` prints these keys)."""

    nodes: int
    partitions: int
    requests: int
    processes: int
    issuer_requests_per_s: float
    topic_bytes: int
    bytes_per_node: float
    bytes_per_node_per_request: float
    node_share_of_topic: float
    requests_executed: int

    def as_dict(self) -> dict[str, float | int]:
        """The figures as a flat dict."""
        return asdict(self)


def run_remediation_bench(
    kafka: KafkaSettings, nodes: int, requests: int, processes: int, partitions: int
) -> RemediationFigures:
    """Issue ``requests`` signed requests and let ``nodes`` simulated nodes read them."""
    work = Path(tempfile.mkdtemp(prefix="fleetwatch-bench-remediation-"))
    topic_settings = TopicSettings(prefix=f"benchrem{int(time.time())}.", partitions=partitions)
    keyring = work / "keyring.json"
    now = utc_now()
    issuer_key, _ = create_key(work, keyring, "issuer", "bench", now, now + timedelta(hours=2))
    node_ids = [f"node-{number:05d}" for number in range(nodes)]
    planned, rate = _issue(node_ids[:requests], load_signer(issuer_key))
    ensure_topics(kafka, topic_settings, [topics.REMEDIATION])
    topic = topics.REMEDIATION.name(topic_settings.prefix)
    topic_bytes = _publish(kafka, topic, planned)
    shares = [node_ids[start::processes] for start in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        jobs = [
            pool.submit(_simulate_nodes, kafka, topic, partitions, share, keyring, work / str(i))
            for i, share in enumerate(shares)
        ]
        outcomes = [job.result() for job in jobs]
    read_bytes = sum(read for read, _ in outcomes)
    executed = sum(done for _, done in outcomes)
    per_node = read_bytes / nodes
    return RemediationFigures(
        nodes, partitions, len(planned), processes, rate, topic_bytes, per_node,
        per_node / len(planned), per_node / topic_bytes, executed,
    )  # fmt: skip


def _issue(targets: list[str], signer: object) -> tuple[list[RemediationRequest], float]:
    """One host incident per target node, planned and signed by the real issuer; timed."""
    control = ControlSettings(blast_max_nodes=len(targets) + 1, blast_max_share=1.0)
    inventory = Inventory()
    issuer = Issuer(IncidentSettings(), control, parse_runbook(RUNBOOK), signer, inventory)  # type: ignore[arg-type]
    now = utc_now()
    incidents = [_incident(node, now) for node in targets]
    started = time.perf_counter()
    planned = [
        request for incident in incidents for request in issuer.plan_one(incident, now).requests
    ]
    return planned, len(planned) / (time.perf_counter() - started)


def _incident(node: str, now: datetime) -> Incident:
    return Incident(
        incident_id=f"inc-{node}", dedup_key=f"host:{node}", kind="host", status="open",
        severity="critical", title=f"{node}: mem.used_percent up", node_id=node,
        metrics=["mem.used_percent"], affected_nodes=[node], affected_count=1, event_count=1,
        directions={"mem.used_percent": "up"}, opened_at=now, updated_at=now, hints=_hints(now),
    )  # fmt: skip


def _hints(now: datetime) -> DiagnosisHints:
    top = MetricDeviation(
        metric="mem.used_percent", observed=97.0, expected=20.0, score=0.99, first_at=now
    )
    return DiagnosisHints(first_metric="mem.used_percent", top=[top])


def _publish(kafka: KafkaSettings, topic: str, planned: list[RemediationRequest]) -> int:
    producer = make_producer(kafka)
    total = 0
    for request in planned:
        key, value = request.node_id.encode(), encode(request)
        producer.send(topic, key=key, value=value)
        total += len(key) + len(value)
    producer.flush(timeout=60)
    producer.close()
    return total


def _simulate_nodes(
    kafka: KafkaSettings, topic: str, partitions: int, node_ids: list[str], keyring: Path,
    state_dir: Path,
) -> tuple[int, int]:  # fmt: skip
    """Each node reads its partition whole, skips others' requests by key, runs its own."""
    records = _read_partitions(kafka, topic, partitions)
    settings = RemediationSettings(state_dir=state_dir)
    control = ControlSettings(blast_max_nodes=10**6)
    ring = load_keyring(keyring)
    audit = AuditLog(publish=lambda step: None)  # the audit's cost is a Kafka send, not read
    read_bytes = executed = 0
    for node_id in node_ids:
        mine = node_id.encode()
        node = NodeRemediator(node_id, {}, settings, control, ring, audit, ActionContext(settings))
        for key, value in records[partition_for(mine, partitions)]:
            read_bytes += len(key) + len(value)
            if key == mine:
                result = node.handle_request(decode(RemediationRequest, value), utc_now())
                executed += result is not None and result.outcome == "dry_run"
    return read_bytes, executed


def _read_partitions(
    kafka: KafkaSettings, topic: str, partitions: int
) -> dict[int, list[tuple[bytes, bytes]]]:
    consumer = make_consumer(kafka, group_id=None, consumer_timeout_ms=3_000)
    assigned = [TopicPartition(topic, partition) for partition in range(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    ends = consumer.end_offsets(assigned)
    found: dict[int, list[tuple[bytes, bytes]]] = {p: [] for p in range(partitions)}
    for record in consumer:
        found[record.partition].append((record.key, record.value))
        if all(consumer.position(tp) >= ends[tp] for tp in assigned):
            break
    consumer.close()
    return found
