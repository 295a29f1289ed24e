"""``fleetwatch alerts``: incidents and anomalies as lines (or JSON), filtered, optionally live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kafka import TopicPartition

from pipeline import topics
from pipeline.bus import Origin, decode_or_dead_letter, make_consumer, partitions_of_keys
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.incidents.subscriptions import ReadStats, Subscription
from pipeline.models import SEVERITY_RANK, AnomalyEvent, DeadLetter, Incident


def wanted(message: Incident | AnomalyEvent, node: str | None, min_severity: str) -> bool:
    """Whether ``message`` passes the node and minimum-severity filters."""
    if SEVERITY_RANK[message.severity] < SEVERITY_RANK[min_severity]:
        return False
    if node is None:
        return True
    if isinstance(message, AnomalyEvent):
        return message.node_id == node
    return message.node_id == node or node in message.affected_nodes


def format_line(message: Incident | AnomalyEvent) -> str:
    """One human-readable line."""
    if isinstance(message, Incident):
        at = (message.resolved_at or message.updated_at).isoformat(timespec="seconds")
        radius = f"{message.affected_count}"
        if message.population:
            radius += f"/{message.population}"
        flags = "".join(
            f" [{flag}]"
            for flag, on in (("silenced", message.silenced), ("flapping", message.flapping))
            if on
        )
        return (
            f"{at} INCIDENT {message.status:<8} {message.severity:<8} {message.kind:<5} "
            f"{radius:>7} {message.title} ({message.incident_id}){flags}"
        )
    at = message.window_end_at.isoformat(timespec="seconds")
    what = message.metric or "host"
    seen = f" observed={message.observed:g}" if message.observed is not None else ""
    expected = f" expected={message.expected:g}" if message.expected is not None else ""
    return (
        f"{at} ANOMALY  {message.severity:<8} {message.node_id} {what} "
        f"score={message.score:.2f}{seen}{expected}"
    )


def follow_alerts(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    emit: Callable[[str], None],
    node: str | None = None,
    min_severity: str = "info",
    as_json: bool = False,
    follow: bool = False,
    stop: Callable[[], bool] = lambda: False,
    idle_ms: int = 3_000,
    subscription: Subscription | None = None,
    stats: ReadStats | None = None,
) -> int:
    """Print matching incidents and anomalies; returns how many were printed.

    Without ``follow`` everything so far is printed and the call returns once the topics are idle
    for ``idle_ms``; with ``follow`` only new messages are printed, until ``stop()``. With a
    ``subscription`` only the partitions of its keys are read (``fleet.alerts`` and, for a node,
    its ``fleet.anomalies`` partition); without one every partition of both topics is read and
    ``node`` filters in the client. ``stats`` counts what was read.
    """
    stats = stats if stats is not None else ReadStats()
    consumer = make_consumer(
        kafka,
        group_id=None,
        auto_offset_reset="latest" if follow else "earliest",
        consumer_timeout_ms=500 if follow else idle_ms,
    )
    try:
        if subscription is None:
            models, keys = _subscribe_all(consumer, topic_settings.prefix, stats)
        else:
            models, keys = _assign(consumer, topic_settings.prefix, subscription, stats)
        node = node if keys is None else None  # keyed reads are already filtered by key
        printed = 0
        while True:
            for record in consumer:
                stats.count(record.key, record.value)
                if keys is not None and record.key not in keys:
                    continue  # another key hashed to the same partition: skipped undecoded
                origin = Origin.of(record)
                message = decode_or_dead_letter(models[record.topic], record.value, origin)
                if isinstance(message, DeadLetter) or not wanted(message, node, min_severity):
                    continue
                if (
                    subscription
                    and isinstance(message, Incident)
                    and not subscription.wants(message)
                ):
                    continue
                emit(message.model_dump_json() if as_json else format_line(message))
                printed += 1
                if stop():
                    return printed
            if not follow or stop():
                return printed
    finally:
        consumer.close()


Models = dict[str, type[Incident] | type[AnomalyEvent]]


def _subscribe_all(consumer: Any, prefix: str, stats: ReadStats) -> tuple[Models, None]:
    models: Models = {
        topics.INCIDENTS.name(prefix): Incident,
        topics.ANOMALIES.name(prefix): AnomalyEvent,
    }
    consumer.subscribe(list(models))
    stats.partitions = sum(len(consumer.partitions_for_topic(t) or ()) for t in models)
    return models, None


def _assign(
    consumer: Any, prefix: str, subscription: Subscription, stats: ReadStats
) -> tuple[Models, set[bytes]]:
    """Manual assignment of the key partitions of both topics (one assign call for all)."""
    wanted: dict[str, tuple[type[Incident] | type[AnomalyEvent], list[bytes]]] = {
        topics.ALERTS.name(prefix): (Incident, subscription.alert_keys()),
        topics.ANOMALIES.name(prefix): (AnomalyEvent, subscription.anomaly_keys()),
    }
    assignment = []
    for topic, (_model, keys) in wanted.items():
        if keys:
            partitions = partitions_of_keys(consumer, topic, keys)
            assignment += [TopicPartition(topic, partition) for partition in partitions]
    consumer.assign(assignment)
    stats.partitions = len(assignment)
    models: Models = {topic: model for topic, (model, _keys) in wanted.items()}
    return models, {key for _model, keys in wanted.values() for key in keys}
