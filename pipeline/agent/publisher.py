"""Ships MetricBatches to Kafka through a spool: in order per node, retried, never silently lost.

Every batch is appended to the spool first, then ``drain`` sends spooled entries in waves. A
wave holds the oldest entry of each node, so a node's next batch leaves only after Kafka
acknowledged (``acks=all``) the previous one: order per node survives broker outages and
retries. When a wave is not fully acknowledged, the producer is discarded (a fresh one starts
clean after the broker returns) and drains pause with capped exponential backoff. A batch sent
twice around a failure keeps its ``batch_id``, so consumers drop the duplicate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from pipeline.agent.spool import MemorySpool, SpoolEntry
from pipeline.bus import BusError, best_compression, make_producer
from pipeline.config import KafkaSettings
from pipeline.models import MetricBatch, encode

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
BOOTSTRAP_TIMEOUT_MS = 3000


class Publisher:
    """Spool-backed, ordered, at-least-once publisher of MetricBatches.

    Parameters
    ----------
    kafka
        Where and how to connect.
    topic
        Full topic name (``topics.METRICS.name(prefix)``).
    spool
        Holds batches until acknowledged (``DirectorySpool`` for the agent).
    compression
        ``"auto"`` picks the best codec installed, else gzip; ``"none"`` disables it.
    send_timeout_s
        How long one wave may wait for acknowledgements before it counts as failed.
    max_wave
        Most entries sent before waiting for their acks (one per node).
    clock
        Monotonic seconds; tests pass a fake.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        spool: MemorySpool,
        compression: str = "auto",
        send_timeout_s: float = 10.0,
        max_wave: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if send_timeout_s <= 0:
            raise ValueError(f"send_timeout_s must be positive, got {send_timeout_s}")
        if max_wave < 1:
            raise ValueError(f"max_wave must be >= 1, got {max_wave}")
        self.kafka = kafka
        self.topic = topic
        self.spool = spool
        self.compression = compression
        self.send_timeout_s = send_timeout_s
        self.max_wave = max_wave
        self.clock = clock
        self.delivered = 0
        self.failures = 0
        self._producer: Any = None
        self._backoff_s = 0.0
        self._retry_at = 0.0

    @property
    def connected(self) -> bool:
        """Whether the last attempt reached Kafka (False until the first success)."""
        return self._producer is not None and self._backoff_s == 0.0

    def publish_many(self, batches: Iterable[MetricBatch]) -> None:
        """Spool batches for delivery (call ``drain`` to send them)."""
        for batch in batches:
            self.spool.append(batch.node_id.encode(), encode(batch))

    def drain(self, budget_s: float, force: bool = False) -> int:
        """Send spooled batches for at most about ``budget_s``; returns how many were acked.

        While backing off after a failure nothing is sent unless ``force``.
        """
        if not force and self.clock() < self._retry_at:
            return 0
        deadline = self.clock() + budget_s
        acked = 0
        while len(self.spool) and self.clock() < deadline:
            wave = self.spool.heads(self.max_wave)
            done = self._send_wave(wave)
            self.spool.remove(done)
            acked += len(done)
            if len(done) < len(wave):
                self._failed(len(wave) - len(done))
                break
            self._backoff_s = 0.0
        self.delivered += acked
        return acked

    def close(self, timeout_s: float) -> None:
        """Graceful shutdown: try to deliver what is spooled within ``timeout_s``, then close."""
        if timeout_s > 0 and len(self.spool):
            self.drain(timeout_s, force=True)
        self._discard_producer()
        self.spool.close()

    def _send_wave(self, wave: list[SpoolEntry]) -> list[SpoolEntry]:
        """Send ``wave`` and wait; returns the entries Kafka acknowledged."""
        producer = self._ensure_producer()
        if producer is None:
            return []
        futures = []
        try:
            for entry in wave:
                futures.append(producer.send(self.topic, key=entry.key, value=entry.value))
            # delivery_timeout_ms bounds every future; the margin covers the flush itself.
            producer.flush(timeout=self.send_timeout_s + 5.0)
        except BusError as exc:
            log.debug("wave of %d not sent: %s", len(wave), exc)
        return [entry for entry, f in zip(wave, futures, strict=False) if f.succeeded()]

    def _ensure_producer(self) -> Any:
        if self._producer is None:
            timeout_ms = int(self.send_timeout_s * 1000)
            codec = best_compression() if self.compression == "auto" else self.compression
            try:
                self._producer = make_producer(
                    self.kafka,
                    compression_type=None if codec == "none" else codec,
                    linger_ms=5,
                    max_block_ms=timeout_ms,
                    # Refused connections are retried until this deadline, and the agent's
                    # sampling waits meanwhile: keep it short, a reachable broker answers fast.
                    bootstrap_timeout_ms=min(timeout_ms, BOOTSTRAP_TIMEOUT_MS),
                    request_timeout_ms=max(1000, timeout_ms - 100),
                    delivery_timeout_ms=timeout_ms,
                    retries=2**31 - 1,  # delivery_timeout_ms is the bound, not a retry count
                    metrics_enabled=False,  # kafka-python's own metrics cost CPU we do not use
                )
            except BusError as exc:
                log.debug("Kafka at %s unreachable: %s", self.kafka.bootstrap, exc)
                return None
        return self._producer

    def _failed(self, unsent: int) -> None:
        self.failures += 1
        self._discard_producer()
        self._backoff_s = min(MAX_BACKOFF_S, max(1.0, self._backoff_s * 2))
        self._retry_at = self.clock() + self._backoff_s
        if self.failures == 1 or self._backoff_s == MAX_BACKOFF_S:
            log.warning(
                "Kafka at %s not acknowledging (%d unsent, %d spooled); retrying in %.0f s",
                self.kafka.bootstrap,
                unsent,
                len(self.spool),
                self._backoff_s,
            )

    def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=1)
        except BusError as exc:  # unresolved sends: they fail on their own deadline
            log.debug("producer closed with pending sends: %s", exc)
