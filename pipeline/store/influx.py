"""Batching, retrying InfluxDB writer with counters of written, retried and dropped points."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import WriteApi, WriteOptions

from pipeline.config import InfluxSettings

log = logging.getLogger(__name__)


@dataclass
class SinkCounters:
    """What happened to the points handed to the sink; exported as worker metrics."""

    written: int = 0
    retried: int = 0
    dropped: int = 0


class InfluxSink:
    """Write points to InfluxDB in the background: batched, retried with capped backoff.

    Parameters
    ----------
    settings
        Where InfluxDB is and which bucket to write.
    batch_size
        Points per HTTP write.
    flush_interval_ms
        Longest a point waits in the batch before being written.
    max_retry_time_ms
        How long a batch keeps being retried while InfluxDB is down before it is dropped (counted).
    """

    def __init__(
        self,
        settings: InfluxSettings,
        batch_size: int = 5000,
        flush_interval_ms: int = 1000,
        max_retry_time_ms: int = 600_000,
    ) -> None:
        if batch_size < 1 or flush_interval_ms < 1:
            raise ValueError("batch_size and flush_interval_ms must be positive")
        self.settings = settings
        self.batch_size = batch_size
        self.flush_interval_ms = flush_interval_ms
        self.max_retry_time_ms = max_retry_time_ms
        self.counters = SinkCounters()
        self._lock = threading.Lock()
        self._client: InfluxDBClient | None = None
        self._write_api: WriteApi | None = None

    def start(self) -> None:
        """Open the client (once); no network traffic happens until the first flush."""
        if self._client is not None:
            return
        self._client = InfluxDBClient(
            url=self.settings.url,
            token=self.settings.token.get_secret_value(),
            org=self.settings.org,
            timeout=self.settings.timeout_ms,
        )
        options = WriteOptions(
            batch_size=self.batch_size,
            flush_interval=self.flush_interval_ms,
            retry_interval=1_000,
            max_retry_delay=15_000,
            exponential_base=2,
            max_retries=1_000,
            max_retry_time=self.max_retry_time_ms,
        )
        self._write_api = self._client.write_api(
            write_options=options,
            success_callback=self._on_success,
            error_callback=self._on_error,
            retry_callback=self._on_retry,
        )

    def add_many(self, points: Iterable[Point]) -> None:
        """Queue points for writing; returns at once."""
        if self._write_api is None:
            raise RuntimeError("InfluxSink.start() must be called before add_many()")
        self._write_api.write(self.settings.bucket, self.settings.org, record=list(points))

    def close(self) -> None:
        """Flush what is queued and close the client."""
        if self._write_api is not None:
            self._write_api.close()
        if self._client is not None:
            self._client.close()
        self._write_api = self._client = None

    def _on_success(self, conf: tuple[str, str, str], data: str) -> None:
        with self._lock:
            self.counters.written += _count_lines(data)

    def _on_error(self, conf: tuple[str, str, str], data: str, exc: InfluxDBError) -> None:
        lines = _count_lines(data)
        with self._lock:
            self.counters.dropped += lines
        log.error("InfluxDB refused or never accepted %d points, dropped: %s", lines, exc)

    def _on_retry(self, conf: tuple[str, str, str], data: str, exc: InfluxDBError) -> None:
        with self._lock:
            self.counters.retried += _count_lines(data)


def _count_lines(data: str | bytes) -> int:
    text = data.decode() if isinstance(data, bytes) else data
    return text.count("\n") + 1 if text else 0
