"""Announce nodes and their labels on the compacted inventory topic: at start, on change, slowly.

The incident stage sizes cohorts (``role=web`` has 500 nodes) from these records instead of
decoding every metric batch. One announcer serves one agent or a whole simulated fleet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pipeline import topics
from pipeline.agent.publisher import Publisher
from pipeline.agent.spool import MemorySpool
from pipeline.config import KafkaSettings
from pipeline.models import InventoryRecord, MetricBatch, encode

SPOOL_BYTES = 4 * 1024 * 1024  # records kept while Kafka is unreachable (one per node is enough)


class InventoryAnnouncer:
    """Decides which nodes are due a record, by the time of their batches.

    Parameters
    ----------
    refresh_s
        A node's labels are re-announced this often even when unchanged.
    """

    def __init__(self, refresh_s: float) -> None:
        self.refresh = timedelta(seconds=refresh_s)
        self._last: dict[str, tuple[datetime, dict[str, str]]] = {}

    def due_many(self, batches: Iterable[MetricBatch]) -> list[InventoryRecord]:
        """Records for the nodes of ``batches`` that are new, relabelled or due a refresh."""
        records = []
        for batch in batches:
            last = self._last.get(batch.node_id)
            if last is not None and last[1] == batch.labels and batch.sampled_at < last[0]:
                continue
            self._last[batch.node_id] = (batch.sampled_at + self.refresh, dict(batch.labels))
            records.append(
                InventoryRecord(
                    node_id=batch.node_id,
                    labels=batch.labels,
                    published_at=batch.sampled_at,
                    refresh_s=self.refresh.total_seconds(),
                )
            )
        return records


class InventorySender:
    """Publishes due inventory records beside the metrics, without holding up sampling.

    A :class:`Publisher` on the inventory topic over a small in-memory spool: the same acks,
    backoff and short bootstrap timeout as the metrics.
    """

    def __init__(
        self, kafka: KafkaSettings, prefix: str, refresh_s: float, send_timeout_s: float = 10.0
    ) -> None:
        topic = topics.INVENTORY.name(prefix)
        self.announcer = InventoryAnnouncer(refresh_s)
        self.publisher = Publisher(kafka, topic, MemorySpool(SPOOL_BYTES), "auto", send_timeout_s)

    @classmethod
    def beside(cls, metrics: Publisher, refresh_s: float) -> InventorySender:
        """The sender for the fleet ``metrics`` publishes to (same Kafka, same topic prefix)."""
        prefix = metrics.topic.removesuffix(topics.METRICS.base_name)
        return cls(metrics.kafka, prefix, refresh_s, metrics.send_timeout_s)

    def send_due(self, batches: Iterable[MetricBatch], budget_s: float = 2.0) -> int:
        """Spool the records ``batches`` make due, send what is pending; returns how many went."""
        for record in self.announcer.due_many(batches):
            self.publisher.spool.append(record.node_id.encode(), encode(record))
        return self.publisher.drain(budget_s) if len(self.publisher.spool) else 0

    def close(self, timeout_s: float) -> None:
        """Deliver what is pending within ``timeout_s``, then close."""
        self.publisher.close(timeout_s)
