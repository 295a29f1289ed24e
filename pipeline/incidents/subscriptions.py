"""Subscription keys: who may follow an incident (its node, role, team) and how they are written.

The incident stage publishes every incident change to ``fleet.alerts`` once per key; a follower
computes the partition of its own key (``bus.partition_for``) and reads only that partition,
skipping other keys that share it by comparing key bytes, without decoding their values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.models import Incident, encode


def subscription_keys(incident: Incident, labels: Sequence[str]) -> list[bytes]:
    """``node:ID`` for a host incident, then ``LABEL:VALUE`` for each of ``labels`` it carries.

    A fleet incident has no node key: it spans many nodes, and its group label (``role:web``) is
    what a node's operator follows for it.
    """
    keys = [f"node:{incident.node_id}"] if incident.node_id is not None else []
    context = incident.labels | incident.group
    keys += [f"{name}:{context[name]}" for name in labels if name in context]
    return [key.encode() for key in keys]


def alert_records(incident: Incident, labels: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """The ``fleet.alerts`` records (key, value) of one incident change: one per key."""
    value = encode(incident)
    return [(key, value) for key in subscription_keys(incident, labels)]


@dataclass(frozen=True)
class Subscription:
    """What one follower wants: a node, a role, a team.

    A role or team alone follows every incident of it. A node follows its host incidents and
    anomalies; with its role (or team) as well, also the fleet incidents of that group (a fleet
    incident has no node key: it may span thousands of nodes), but not other nodes' host incidents.
    """

    node: str | None = None
    role: str | None = None
    team: str | None = None

    def alert_keys(self) -> list[bytes]:
        """The ``fleet.alerts`` keys this subscription reads."""
        wanted = (("node", self.node), ("role", self.role), ("team", self.team))
        return [f"{name}:{value}".encode() for name, value in wanted if value is not None]

    def wants(self, incident: Incident) -> bool:
        """Whether ``incident``, read under one of this subscription's keys, is for it."""
        if self.node is None or incident.kind == "fleet":
            return True
        return incident.node_id == self.node

    def anomaly_keys(self) -> list[bytes]:
        """The ``fleet.anomalies`` keys (node ids) it reads: a node follower's own events."""
        return [self.node.encode()] if self.node is not None else []


@dataclass
class ReadStats:
    """What a follower read from Kafka, to compare with reading every partition."""

    messages: int = 0
    bytes_read: int = 0
    partitions: int = 0

    def count(self, key: bytes | None, value: bytes | None) -> None:
        """Count one record as read (key and value bytes)."""
        self.messages += 1
        self.bytes_read += len(key or b"") + len(value or b"")
