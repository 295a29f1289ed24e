"""What ``fleetwatch change record`` runs: options → a validated ChangeEvent → fleet.changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from pipeline import topics
from pipeline.bus import BusError, ensure_topics, make_producer
from pipeline.config import KafkaSettings, TopicSettings, load
from pipeline.errors import ConfigError, SinkUnavailable
from pipeline.models import ChangeEvent, encode

SEND_TIMEOUT_S = 30.0  # a CI hook waits for the acknowledgement, then fails loudly


def build_change(options: dict[str, Any]) -> ChangeEvent:
    """The ChangeEvent the options describe.

    Raises
    ------
    ConfigError
        Naming the first invalid field (no role and no node, a bad node id, ...).
    """
    fields = {
        "kind": options["kind"],
        "role": options.get("role"),
        "nodes": list(options.get("nodes") or ()),
        "version": options.get("version"),
        "who": options["who"],
        "summary": options.get("summary") or "",
    }
    if options.get("change_id"):
        fields["change_id"] = options["change_id"]
    changed_at = options.get("changed_at")
    if changed_at is not None:
        fields["changed_at"] = changed_at if changed_at.tzinfo else changed_at.replace(tzinfo=UTC)
    try:
        return ChangeEvent(**fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "change"
        raise ConfigError(f"invalid change: {where}: {first['msg']}") from None


def record_change(options: dict[str, Any]) -> ChangeEvent:
    """Build the change, create the topics if missing, publish it and wait for the ack."""
    change = build_change(options)
    kafka = load(KafkaSettings, options["config_file"], bootstrap=options["kafka_bootstrap"])
    topic_settings = load(TopicSettings, options["config_file"], prefix=options["topic_prefix"])
    ensure_topics(kafka, topic_settings, [topics.CHANGES])
    try:
        publish_changes(kafka, topics.CHANGES.name(topic_settings.prefix), [change])
    except BusError as exc:
        raise SinkUnavailable(
            f"Kafka at {kafka.bootstrap} did not take the change: {exc}", 5.0
        ) from None
    return change


def publish_changes(kafka: KafkaSettings, topic: str, changes: Sequence[ChangeEvent]) -> None:
    """Send ``changes`` to ``topic`` (key ``change_id``) and wait until the broker has them.

    Raises
    ------
    BusError
        When Kafka does not acknowledge them within ``SEND_TIMEOUT_S``.
    """
    producer = make_producer(kafka)
    try:
        futures = [producer.send(topic, key=c.change_id.encode(), value=encode(c)) for c in changes]
        for future in futures:
            future.get(timeout=SEND_TIMEOUT_S)
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
