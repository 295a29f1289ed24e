"""The only module importing kafka-python: clients built from settings, topics created if missing.

The Faust worker talks to Kafka through aiokafka on its own; everything else (agents, simulator,
CLI, benchmarks) uses the clients made here so that security settings apply everywhere alike.
Every stage decodes what it reads with ``decode_or_dead_letter``: a message that does not decode
becomes one kind of ``DeadLetter``, capped one way, whichever stage read it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from pipeline import topics as topic_specs
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.errors import InvalidMessage, SinkUnavailable
from pipeline.models import DEAD_LETTER_RAW_BYTES, DeadLetter, M, WireModel, decode, encode
from pipeline.topics import TopicSpec

log = logging.getLogger(__name__)


def connection_options(kafka: KafkaSettings) -> dict[str, Any]:
    """kafka-python keyword arguments for bootstrap and security, shared by every client."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap.split(","),
        "client_id": kafka.client_id,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.sasl_mechanism:
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        if kafka.sasl_password is not None:
            options["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    if kafka.ssl_cafile:
        options["ssl_cafile"] = str(kafka.ssl_cafile)
    return options


def make_producer(kafka: KafkaSettings, **overrides: Any) -> KafkaProducer:
    """A durable producer: ``acks=all``, retried until ``delivery_timeout_ms``, order kept.

    A retry count is no bound for an outage: five retries 200 ms apart gave up within about a
    second, shorter than a partition's leader election on a loaded broker, and the messages
    were dropped (issue 17: a test's fleet lost its first 20 rounds on a new topic). Retries
    stop at the delivery timeout instead, as in the node agent's publisher.
    """
    options = connection_options(kafka) | {
        "acks": "all",
        "retries": 2**31 - 1,  # delivery_timeout_ms is the bound, not a retry count
        "delivery_timeout_ms": 120_000,
        "retry_backoff_ms": 200,
        "max_in_flight_requests_per_connection": 1,  # keeps per-node order across retries
        "linger_ms": 20,
    }
    return KafkaProducer(**(options | overrides))


def publish_keyed(
    kafka: KafkaSettings, topic: str, messages: Iterable[tuple[str, WireModel]]
) -> None:
    """Send a few ``(key, message)`` pairs to ``topic`` and wait until the broker has them.

    For one-off commands (an operator's command, a tuning request, a recorded change): a producer
    of their own, flushed and closed before returning. Raises ``BusError`` when the broker did
    not take every message within the delivery timeout, rather than losing a command silently.
    """
    producer = make_producer(kafka)
    try:
        sent = [
            producer.send(topic, key=key.encode(), value=encode(message))
            for key, message in messages
        ]
        producer.flush(timeout=130)  # past delivery_timeout_ms: every future is settled then
        for future in sent:
            future.get(timeout=0)  # raises what the broker or the timeout refused
    finally:
        producer.close()


# What producer and consumer calls raise, for callers that must not import kafka-python.
BusError = KafkaError


def best_compression() -> str:
    """The most efficient codec kafka-python can use here: zstd > lz4 > snappy, else gzip."""
    from kafka import codec

    for name, available in (
        ("zstd", codec.has_zstd),
        ("lz4", codec.has_lz4),
        ("snappy", codec.has_snappy),
    ):
        if available():
            return name
    return "gzip"


def make_consumer(kafka: KafkaSettings, *topics: str, **overrides: Any) -> KafkaConsumer:
    """A consumer of raw bytes; callers decode with ``pipeline.models.decode``."""
    options = connection_options(kafka) | {
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
    }
    return KafkaConsumer(*topics, **(options | overrides))


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` among ``partitions``.

    murmur2 of the key bytes, as the Java client, kafka-python and aiokafka (under Faust) all
    compute it, so a reader finds a key's messages without reading the other partitions.
    """
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def partitions_of_keys(consumer: KafkaConsumer, topic: str, keys: Iterable[bytes]) -> list[int]:
    """The partitions of ``topic`` that hold ``keys`` (to assign a group-less ``consumer``).

    Raises
    ------
    SinkUnavailable
        When the topic's partitions are unknown (no such topic, or Kafka unreachable).
    """
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise SinkUnavailable(f"topic {topic} not found (or Kafka unreachable)", 5.0)
    return sorted({partition_for(key, len(partitions)) for key in keys})


def ensure_topics(
    kafka: KafkaSettings,
    topics: TopicSettings,
    specs: Iterable[TopicSpec],
    partitions: int | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    Raises
    ------
    SinkUnavailable
        When the cluster cannot be reached to create them.
    """
    count = partitions or topics.partitions
    return create_missing_topics(
        kafka, {spec.name(topics.prefix): (count, spec.configs()) for spec in specs}
    )


def create_missing_topics(
    kafka: KafkaSettings, wanted: Mapping[str, tuple[int, dict[str, str]]]
) -> list[str]:
    """Create each topic of ``wanted`` (name -> partitions, configs) that does not exist yet.

    Raises
    ------
    SinkUnavailable
        When the cluster cannot be reached to create them.
    """
    try:
        admin = KafkaAdminClient(**connection_options(kafka), request_timeout_ms=15_000)
    except KafkaError as exc:
        raise SinkUnavailable(f"Kafka at {kafka.bootstrap} unreachable: {exc}", 5.0) from None
    try:
        missing = sorted(set(wanted) - set(admin.list_topics()))
        new_topics = [
            NewTopic(
                name,
                num_partitions=wanted[name][0],
                replication_factor=-1,  # the broker's default, so one config fits 1 and N brokers
                topic_configs=wanted[name][1],
            )
            for name in missing
        ]
        if new_topics:
            try:
                admin.create_topics(new_topics)
            except TopicAlreadyExistsError:
                log.debug("a concurrent client created some of %s first", missing)
        return missing
    finally:
        admin.close()


class Record(Protocol):
    """What a consumed message tells about itself (kafka-python's ``ConsumerRecord``)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


@dataclass(frozen=True)
class Origin:
    """Where a message was read, for dead letters and log lines (``topic[partition]@offset``)."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, record: Record) -> Origin:
        """The origin of a consumed record."""
        return cls(record.topic, record.partition, record.offset)

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def decode_or_dead_letter(model: type[M], raw: bytes | None, origin: Origin) -> M | DeadLetter:
    """``raw`` as ``model``, or a ``DeadLetter`` saying why it is not one (logged once)."""
    if raw is None:
        return dead_letter("empty message (tombstone)", "EmptyMessage", b"", origin)
    try:
        return decode(model, raw)
    except InvalidMessage as exc:
        return dead_letter(exc.reason, "InvalidMessage", raw, origin)


def dead_letter(reason: str, error_type: str, raw: bytes, origin: Origin) -> DeadLetter:
    """The letter for a message that failed at ``origin``; ``raw`` is cut to what Kafka takes."""
    cap = DEAD_LETTER_RAW_BYTES
    note = f" (raw truncated to {cap} of {len(raw)} bytes)" if len(raw) > cap else ""
    log.warning("dead letter from %s: %s", origin, reason)
    return DeadLetter(
        reason=reason[: 512 - len(note)] + note,
        error_type=error_type,
        topic=origin.topic,
        partition=origin.partition,
        offset=origin.offset,
        raw=raw[:cap],
    )


def publish_dead_letter(producer: KafkaProducer, prefix: str, letter: DeadLetter) -> None:
    """Send ``letter`` to the dead-letter topic, keyed by the topic it came from."""
    producer.send(
        topic_specs.DEADLETTER.name(prefix), key=letter.topic.encode(), value=encode(letter)
    )
