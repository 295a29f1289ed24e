"""``fleetwatch alerts``: incidents and anomalies as lines (or JSON), filtered, optionally live."""

from __future__ import annotations

from collections.abc import Callable

from pipeline import topics
from pipeline.bus import Origin, decode_or_dead_letter, make_consumer
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.incidents.grouping import SEVERITY_RANK
from pipeline.models import AnomalyEvent, DeadLetter, Incident


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
) -> int:
    """Print matching incidents and anomalies; returns how many were printed.

    Without ``follow`` everything so far is printed and the call returns once the topics are idle
    for ``idle_ms``; with ``follow`` only new messages are printed, until ``stop()``.
    """
    prefix = topic_settings.prefix
    models: dict[str, type[Incident] | type[AnomalyEvent]] = {
        topics.INCIDENTS.name(prefix): Incident,
        topics.ANOMALIES.name(prefix): AnomalyEvent,
    }
    consumer = make_consumer(
        kafka,
        *models,
        group_id=None,
        auto_offset_reset="latest" if follow else "earliest",
        consumer_timeout_ms=500 if follow else idle_ms,
    )
    printed = 0
    try:
        while True:
            for record in consumer:
                origin = Origin.of(record)
                message = decode_or_dead_letter(models[record.topic], record.value, origin)
                if isinstance(message, DeadLetter) or not wanted(message, node, min_severity):
                    continue
                emit(message.model_dump_json() if as_json else format_line(message))
                printed += 1
                if stop():
                    return printed
            if not follow or stop():
                return printed
    finally:
        consumer.close()
