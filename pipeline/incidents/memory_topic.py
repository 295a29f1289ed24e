"""Read a compacted topic of the incident stage back in full, as the stage does when it starts."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pipeline.bus import make_consumer
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.errors import InvalidMessage
from pipeline.models import M, decode
from pipeline.topics import TopicSpec

log = logging.getLogger(__name__)


def read_all(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    spec: TopicSpec,
    model: type[M],
    idle_ms: int = 2_000,
) -> Iterator[M]:
    """Every record of ``spec``'s topic from the beginning, until it is idle for ``idle_ms``.

    No consumer group: the whole (compacted) topic is the stage's memory. A later record of the
    same key replaces an earlier one, so the caller keeps the last per key.
    """
    consumer = make_consumer(
        kafka, spec.name(topic_settings.prefix), group_id=None, consumer_timeout_ms=idle_ms
    )
    try:
        for record in consumer:
            try:
                yield decode(model, record.value)
            except InvalidMessage as exc:
                log.warning("skipped an unreadable %s record: %s", spec.base_name, exc.reason)
    finally:
        consumer.close()
