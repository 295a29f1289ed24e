"""What a consumer group has acknowledged of a topic, read back from Kafka's committed offsets."""

from __future__ import annotations

import time
from types import TracebackType

from kafka import TopicPartition

from pipeline.bus import make_consumer
from pipeline.config import KafkaSettings
from pipeline.errors import FleetwatchError

POLL_S = 0.5  # between two reads of the group's committed offsets


class GroupOffsets:
    """The committed offsets of ``group_id`` on ``topic``, read without joining the group.

    The worker acknowledges a message only once the node model holding it is saved (or it is
    dead-lettered), and saves a node at most every ``snapshot_interval_s``: a group that just
    drained a backlog, or just went through a rebalance (which drops what was not saved yet, to be
    read again), has acknowledged only part of it for a while. 0 unacknowledged means every
    message was processed for good.
    """

    def __init__(self, kafka: KafkaSettings, group_id: str, topic: str) -> None:
        self.consumer = make_consumer(kafka, group_id=group_id)
        partitions = self.consumer.partitions_for_topic(topic)
        if not partitions:
            self.consumer.close()
            raise FleetwatchError(f"topic {topic} not found")
        self.partitions = [TopicPartition(topic, p) for p in sorted(partitions)]

    def __enter__(self) -> GroupOffsets:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.consumer.close()

    def unacknowledged(self) -> int:
        """Messages of the topic past the offsets the group committed (all of them if none)."""
        ends = self.consumer.end_offsets(self.partitions)
        return sum(ends[tp] - (self.consumer.committed(tp) or 0) for tp in self.partitions)

    def wait_acknowledged(self, timeout_s: float) -> int:
        """Wait until the group acknowledged all of the topic; what is left after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        left = self.unacknowledged()
        while left and time.monotonic() < deadline:
            time.sleep(POLL_S)
            left = self.unacknowledged()
        return left
