"""Batching InfluxDB writer: bounded local buffer, capped-backoff retries, counted outcomes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS, WriteApi
from influxdb_client.domain.write_precision import WritePrecision
from urllib3.exceptions import HTTPError

from pipeline.config import InfluxSettings
from pipeline.errors import SinkBackpressure, SinkUnavailable
from pipeline.store.buffer import Backoff, LineBuffer, SinkCounters

log = logging.getLogger(__name__)

# About one batch write: a waiting producer re-checks often enough to keep the writer busy.
BACKPRESSURE_RETRY_S = 0.05

__all__ = ["InfluxSink", "SinkCounters"]


class InfluxSink:
    """Write points to InfluxDB from a background thread, batched and retried (a ``Sink``).

    Points are turned into line protocol (millisecond precision) when added and wait in a bounded
    buffer; while InfluxDB is unreachable the writer retries the oldest batch with capped backoff
    and the buffer drops its oldest lines once full. Nothing connects before ``start()``.

    Parameters
    ----------
    settings
        Where InfluxDB is and which bucket to write.
    batch_size
        Most points per HTTP write.
    flush_interval_ms
        Longest a point waits for a full batch.
    max_buffer_points
        Points kept while InfluxDB is down; the oldest beyond it are dropped and counted.
    max_backoff_s
        Cap of the delay between retries.
    """

    def __init__(
        self,
        settings: InfluxSettings,
        batch_size: int = 5000,
        flush_interval_ms: int = 500,
        max_buffer_points: int = 200_000,
        max_backoff_s: float = 15.0,
    ) -> None:
        if batch_size < 1 or flush_interval_ms < 1:
            raise ValueError(
                f"batch_size ({batch_size}) and flush_interval_ms ({flush_interval_ms}) "
                "must be positive"
            )
        if max_buffer_points < batch_size:
            raise ValueError(f"max_buffer_points must be >= batch_size ({batch_size})")
        self.settings = settings
        self.batch_size = batch_size
        self.flush_interval_ms = flush_interval_ms
        self.max_buffer_points = max_buffer_points
        self.max_backoff_s = max_backoff_s
        self.counters = SinkCounters()
        self._added = 0
        self._buffer = LineBuffer(max_buffer_points, self.counters)
        self._backoff = Backoff(first_s=0.5, max_s=max_backoff_s)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: InfluxDBClient | None = None
        self._write_api: WriteApi | None = None
        self._failing = False  # the latest write attempt could not reach InfluxDB

    @property
    def buffered(self) -> int:
        """Points waiting to be written."""
        return len(self._buffer)

    @property
    def settled(self) -> int:
        """Points that have left the buffer (written, rejected or dropped), oldest first.

        The buffer is FIFO, so every point whose number is at most this is settled.
        """
        counters = self.counters
        return counters.written + counters.rejected + counters.dropped

    def start(self) -> None:
        """Open the client and start the writer thread (once)."""
        if self._thread is not None:
            return
        self._client = InfluxDBClient(
            url=self.settings.url,
            token=self.settings.token.get_secret_value(),
            org=self.settings.org,
            timeout=self.settings.timeout_ms,
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="influx-sink", daemon=True)
        self._thread.start()

    def add_many(self, items: Iterable[Point | str]) -> int:
        """Queue points (or ready line-protocol lines); returns the number of the last one.

        Raises
        ------
        SinkBackpressure
            While more than half the buffer waits on a running writer that reaches InfluxDB:
            waiting drains it, where adding would soon push the oldest points out. While
            InfluxDB is unreachable (or the writer is not running) waiting would not help, so
            the buffer takes the outage and drops its oldest points past its bound, counted.
        """
        if self._lagging():
            raise SinkBackpressure(
                f"{len(self._buffer)} points wait on InfluxDB", BACKPRESSURE_RETRY_S
            )
        lines = [line for p in items if (line := p if isinstance(p, str) else p.to_line_protocol())]
        if lines:
            self._added += len(lines)
            self._buffer.extend(lines)
        return self._added

    def _lagging(self) -> bool:
        writing = self._thread is not None and self._thread.is_alive() and not self._failing
        return writing and len(self._buffer) > self.max_buffer_points // 2

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the buffer is empty (or ``timeout_s``); True when everything was written."""
        deadline = time.monotonic() + timeout_s
        while self._buffer and time.monotonic() < deadline:
            with self._buffer.ready:
                self._buffer.ready.notify()
            time.sleep(0.02)
        return not self._buffer

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is buffered (up to ``timeout_s``), then stop the thread and the client."""
        if self._thread is None:
            return
        self.flush(timeout_s)
        self._stopping.set()
        with self._buffer.ready:
            self._buffer.ready.notify()
        self._thread.join(timeout=timeout_s)
        if self._client is not None:
            self._client.close()
        self._thread = self._client = self._write_api = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._buffer.ready:
                if len(self._buffer) < self.batch_size:
                    self._buffer.ready.wait(self.flush_interval_ms / 1000)
            batch = self._buffer.peek(self.batch_size)
            if not batch:
                continue
            try:
                self._write_batch(batch)
            except SinkUnavailable as exc:
                self._failing = True
                self.counters.retried += len(batch)
                delay_s = self._backoff.next_delay_s(exc.retry_after_s)
                log.warning("%s; retrying %d points in %.1f s", exc, len(batch), delay_s)
                self._stopping.wait(delay_s)
                continue
            self._failing = False
            self._backoff.reset()
            self._buffer.discard(batch)

    def _write_batch(self, batch: list[str]) -> None:
        """One HTTP write; counts written or rejected, raises SinkUnavailable to be retried."""
        assert self._write_api is not None  # noqa: S101 - only called by the started thread
        try:
            self._write_api.write(
                self.settings.bucket,
                self.settings.org,
                record="\n".join(batch),
                # WritePrecision's constants are plain str; write() is annotated with the class.
                write_precision=WritePrecision.MS,  # type: ignore[arg-type]
            )
        except InfluxDBError as exc:
            status = getattr(exc.response, "status", None)
            if status is not None and 400 <= status < 500 and status != 429:
                self.counters.rejected += len(batch)
                log.error("InfluxDB rejected %d points (HTTP %s): %s", len(batch), status, exc)
                return
            retry_after = float(exc.retry_after) if exc.retry_after else None
            raise SinkUnavailable(f"InfluxDB answered {status}", retry_after or 0.0) from None
        except (HTTPError, OSError) as exc:
            reason = f"InfluxDB at {self.settings.url} unreachable: {type(exc).__name__}"
            raise SinkUnavailable(reason, 0.0) from None
        self.counters.written += len(batch)
