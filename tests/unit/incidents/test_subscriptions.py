"""Subscription keys and the partition a follower computes for them."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from pipeline.bus import partition_for
from pipeline.incidents.subscriptions import Subscription, subscription_keys
from tests.unit.incidents.test_alertmanager import make_incident


def test_follower_partition_is_the_one_faust_and_kafka_python_write_to() -> None:
    partitions = list(range(12))
    for number in range(200):
        key = f"node-{number:04d}".encode()
        assert partition_for(key, 12) == DefaultPartitioner()(key, partitions, partitions)


def test_host_incident_keys_are_node_then_configured_labels() -> None:
    keys = subscription_keys(make_incident(labels={"role": "web", "team": "sre"}), ["role", "team"])
    assert keys == [b"node:web-1", b"role:web", b"team:sre"]


def test_fleet_incident_is_keyed_by_its_group_only() -> None:
    fleet = make_incident(kind="fleet", node_id=None, labels={}, group={"role": "db"})
    assert subscription_keys(fleet, ["role", "team"]) == [b"role:db"]


def test_node_follower_skips_other_nodes_host_incidents_under_its_role_key() -> None:
    subscription = Subscription(node="web-2", role="web")
    assert subscription.alert_keys() == [b"node:web-2", b"role:web"]
    assert subscription.anomaly_keys() == [b"web-2"]
    assert not subscription.wants(make_incident())  # web-1's host incident
    assert subscription.wants(make_incident(kind="fleet", node_id=None))
    assert Subscription(role="web").wants(make_incident())
