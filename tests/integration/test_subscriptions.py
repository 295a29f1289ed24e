"""Followers of one node, role or team read only their keys' partitions, and miss nothing.

The fleet's alerts are written the way the incident stage writes them (``alert_records``, one
record per subscription key) and its anomalies keyed by node id; a follower computes its
partitions with the producers' partitioner. Each test prints what it read against the whole.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics, make_producer, partition_for
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.incidents.alerts import follow_alerts
from pipeline.incidents.subscriptions import ReadStats, Subscription, alert_records
from pipeline.models import Incident, encode
from tests.conftest import BASE_TIME, make_event

pytestmark = pytest.mark.integration

PARTITIONS = 8
ROLES = ("web", "db", "cache", "batch")
NODES = [f"n{i:02d}" for i in range(40)]
STATUSES = ("open", "updated", "resolved")


def labels_of(node: str) -> dict[str, str]:
    number = int(node[1:])
    return {"role": ROLES[number % 4], "team": f"team{number % 2}", "zone": "z1"}


def host_incident(node: str, status: str) -> Incident:
    return Incident(
        incident_id=f"inc-{node}", dedup_key=f"host:{node}", kind="host", status=status,
        severity="critical", title=f"{node}: cpu", node_id=node, labels=labels_of(node),
        affected_nodes=[node], affected_count=1, event_count=2, opened_at=BASE_TIME,
        updated_at=BASE_TIME,
    )  # fmt: skip


def fleet_incident(role: str) -> Incident:
    members = [node for node in NODES if labels_of(node)["role"] == role]
    return Incident(
        incident_id=f"inc-fleet-{role}", dedup_key=f"fleet:role={role}", kind="fleet",
        status="open", severity="critical", title=f"role={role}: cpu", group={"role": role},
        affected_nodes=members, affected_count=len(members), event_count=len(members),
        opened_at=BASE_TIME, updated_at=BASE_TIME,
    )  # fmt: skip


@pytest.fixture(scope="module")
def fleet(stack: Any) -> tuple[TopicSettings, Counter[tuple[str, int]]]:
    """The alerts and anomalies of 40 nodes on 8-partition topics, and records per partition."""
    kafka = stack.kafka
    settings = TopicSettings(prefix=f"sub{uuid.uuid4().hex[:8]}.", partitions=PARTITIONS)
    ensure_topics(kafka, settings, [topics.ALERTS, topics.ANOMALIES])
    producer = make_producer(kafka)
    per_partition: Counter[tuple[str, int]] = Counter()

    def send(topic: str, key: bytes, value: bytes) -> None:
        producer.send(topic, key=key, value=value)
        per_partition[(topic, partition_for(key, PARTITIONS))] += 1

    changes = [host_incident(node, status) for node in NODES for status in STATUSES]
    for incident in [*changes, fleet_incident("web")]:
        for key, value in alert_records(incident, ["role", "team"]):
            send(topics.ALERTS.name(settings.prefix), key, value)
    for node in NODES:
        for number in range(5):
            at = BASE_TIME + timedelta(minutes=number)
            event = make_event(
                event_id=f"e-{node}-{number}", node_id=node, labels=labels_of(node),
                window_start_at=at, window_end_at=at + timedelta(seconds=10),
            )  # fmt: skip
            send(topics.ANOMALIES.name(settings.prefix), node.encode(), encode(event))
    producer.flush(timeout=30)
    producer.close()
    return settings, per_partition


def follow(kafka: KafkaSettings, settings: TopicSettings, **wanted: str) -> tuple[Any, ReadStats]:
    lines: list[str] = []
    stats = ReadStats()
    follow_alerts(
        kafka, settings, lines.append, as_json=True, subscription=Subscription(**wanted),
        stats=stats, idle_ms=2_000,
    )  # fmt: skip
    return [json.loads(line) for line in lines], stats


def incidents_in(messages: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(m["incident_id"], m["status"]) for m in messages if "incident_id" in m}


def report(who: str, stats: ReadStats, per_partition: Counter[tuple[str, int]]) -> None:
    total = sum(per_partition.values())
    print(
        f"\n{who}: read {stats.messages} of {total} records ({stats.messages / total:.1%}) "
        f"from {stats.partitions} of {2 * PARTITIONS} partitions, {stats.bytes_read} bytes"
    )


def test_a_node_follower_reads_two_partitions_and_gets_all_of_its_own(
    kafka: KafkaSettings, fleet: tuple[TopicSettings, Counter[tuple[str, int]]]
) -> None:
    settings, per_partition = fleet
    messages, stats = follow(kafka, settings, node="n07")
    assert incidents_in(messages) == {("inc-n07", status) for status in STATUSES}
    assert {m["event_id"] for m in messages if "event_id" in m} == {f"e-n07-{k}" for k in range(5)}
    mine = [
        (topics.ALERTS.name(settings.prefix), partition_for(b"node:n07", PARTITIONS)),
        (topics.ANOMALIES.name(settings.prefix), partition_for(b"n07", PARTITIONS)),
    ]
    assert stats.partitions == 2
    assert stats.messages == sum(per_partition[tp] for tp in mine), "read beyond its partitions"
    report("node n07", stats, per_partition)


def test_a_node_with_its_role_also_gets_the_roles_fleet_incidents_only(
    kafka: KafkaSettings, fleet: tuple[TopicSettings, Counter[tuple[str, int]]]
) -> None:
    settings, per_partition = fleet
    messages, stats = follow(kafka, settings, node="n04", role="web")
    expected = {("inc-n04", status) for status in STATUSES} | {("inc-fleet-web", "open")}
    assert incidents_in(messages) == expected
    report("node n04 + role web", stats, per_partition)


@pytest.mark.parametrize(("label", "value", "nodes"), [("role", "db", 10), ("team", "team1", 20)])
def test_a_role_or_team_follower_gets_every_incident_of_it_from_one_partition(
    kafka: KafkaSettings,
    fleet: tuple[TopicSettings, Counter[tuple[str, int]]],
    label: str,
    value: str,
    nodes: int,
) -> None:
    settings, per_partition = fleet
    messages, stats = follow(kafka, settings, **{label: value})
    members = [node for node in NODES if labels_of(node)[label] == value]
    assert len(members) == nodes
    expected = {(f"inc-{node}", status) for node in members for status in STATUSES}
    if (label, value) == ("role", "web"):
        expected.add(("inc-fleet-web", "open"))
    assert incidents_in(messages) == expected
    assert stats.partitions == 1 and not [m for m in messages if "event_id" in m]
    report(f"{label} {value}", stats, per_partition)
