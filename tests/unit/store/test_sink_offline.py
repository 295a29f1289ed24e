"""The sink against an address where nothing listens: retries, bounded buffer, counted drops."""

from __future__ import annotations

import socket
import time

import pytest

from pipeline.config import InfluxSettings
from pipeline.store.influx import InfluxSink


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_influx_is_retried_and_the_buffer_stays_bounded() -> None:
    settings = InfluxSettings(url=f"http://127.0.0.1:{_closed_port()}", timeout_ms=200)
    sink = InfluxSink(settings, batch_size=10, flush_interval_ms=10, max_buffer_points=50)
    sink.start()
    try:
        sink.add_many([f"m,node=n v={i} {i}" for i in range(80)])
        deadline = time.monotonic() + 5
        while sink.counters.retried < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sink.counters.retried >= 20  # at least two failed attempts of a full batch
        assert sink.counters.written == 0
        assert sink.counters.dropped == 30
        assert sink.buffered == 50
        assert (sink.added, sink.settled) == (80, 30)  # the dropped oldest count as settled
        assert not sink.behind  # a full buffer, but waiting would not drain it: no backpressure
        assert not sink.flush(timeout_s=0.2)
    finally:
        sink.close(timeout_s=0.2)


def test_a_sink_not_writing_yet_never_asks_the_stream_to_wait() -> None:
    sink = InfluxSink(InfluxSettings(), batch_size=10, max_buffer_points=50)
    sink.add_many([f"m,node=n v={i} {i}" for i in range(40)])
    assert sink.buffered == 40
    assert not sink.behind


def test_sink_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        InfluxSink(InfluxSettings(), batch_size=0)
    with pytest.raises(ValueError, match="max_buffer_points"):
        InfluxSink(InfluxSettings(), batch_size=100, max_buffer_points=10)
