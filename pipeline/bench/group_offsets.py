"""What a consumer group has acknowledged of a topic, read back from Kafka's committed offsets."""

from __future__ import annotations

from kafka import TopicPartition

from pipeline.bus import make_consumer
from pipeline.config import KafkaSettings
from pipeline.errors import FleetwatchError


def unacknowledged(kafka: KafkaSettings, group_id: str, topic: str) -> int:
    """Messages of ``topic`` past the offsets ``group_id`` committed (all of them if none).

    The worker acknowledges a message only once the node model holding it is saved (or it is
    dead-lettered), so 0 after the group stopped means every message was processed for good.
    The consumer reads the group's offsets without joining it.
    """
    consumer = make_consumer(kafka, group_id=group_id)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise FleetwatchError(f"topic {topic} not found")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = consumer.end_offsets(tps)
        return sum(ends[tp] - (consumer.committed(tp) or 0) for tp in tps)
    finally:
        consumer.close()
