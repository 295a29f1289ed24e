"""Read the incident memory topic back in full, as the incident stage does when it starts."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pipeline import topics
from pipeline.bus import make_consumer
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.errors import InvalidMessage
from pipeline.models import RememberedIncident, decode

log = logging.getLogger(__name__)


def read_all_memory(
    kafka: KafkaSettings, topic_settings: TopicSettings, idle_ms: int = 2_000
) -> Iterator[RememberedIncident]:
    """Every record on the memory topic from the beginning, until it is idle for ``idle_ms``.

    No consumer group: the whole (compacted) topic is the stage's memory. A later record of the
    same incident replaces an earlier one, so the caller keeps the last per ``incident_id``.
    """
    topic = topics.MEMORY.name(topic_settings.prefix)
    consumer = make_consumer(kafka, topic, group_id=None, consumer_timeout_ms=idle_ms)
    try:
        for record in consumer:
            try:
                yield decode(RememberedIncident, record.value)
            except InvalidMessage as exc:
                log.warning("skipped an unreadable incident memory record: %s", exc.reason)
    finally:
        consumer.close()
