"""Deliver one tuning request over Kafka and wait for its node's final result."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer

from pipeline import topics
from pipeline.bus import ensure_topics, make_consumer, publish_keyed
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.errors import InvalidMessage
from pipeline.models import RemediationRequest, RemediationResult, decode

# Outcomes that are not final: the node waits for an operator's `fleetwatch approve`.
WAITING = ("awaiting_approval",)


def kafka_deliver(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    wait_s: float,
    on_waiting: Callable[[RemediationResult], None],
) -> Callable[[RemediationRequest], RemediationResult | None]:
    """A ``Deliver``: publish a request, read results until its final one or ``wait_s``."""
    ensure_topics(kafka, topic_settings, [topics.REMEDIATION, topics.REMEDIATION_RESULTS])

    def deliver(request: RemediationRequest) -> RemediationResult | None:
        results_topic = topics.REMEDIATION_RESULTS.name(topic_settings.prefix)
        consumer = make_consumer(kafka, results_topic, group_id=None, auto_offset_reset="latest")
        try:
            consumer.poll(timeout_ms=1_000)  # join the partitions before the request goes out
            _publish(kafka, topic_settings, request)
            return _await(consumer, request.request_id, wait_s, on_waiting)
        finally:
            consumer.close()

    return deliver


def _publish(
    kafka: KafkaSettings, topic_settings: TopicSettings, request: RemediationRequest
) -> None:
    topic = topics.REMEDIATION.name(topic_settings.prefix)
    publish_keyed(kafka, topic, [(request.node_id, request)])


def _await(
    consumer: KafkaConsumer,
    request_id: str,
    wait_s: float,
    on_waiting: Callable[[RemediationResult], None],
) -> RemediationResult | None:
    deadline_at = time.monotonic() + wait_s
    while time.monotonic() < deadline_at:
        for records in consumer.poll(timeout_ms=1_000).values():
            for record in records:
                try:
                    result = decode(RemediationResult, record.value)
                except InvalidMessage:
                    continue  # not ours to judge: the incident stage dead-letters bad results
                if result.request_id != request_id:
                    continue
                if result.outcome not in WAITING:
                    return result
                on_waiting(result)
    return None
