"""The sink against an address where nothing listens: retries, bounded buffer, counted drops."""

from __future__ import annotations

import socket
import time

import pytest

from pipeline.config import InfluxSettings
from pipeline.errors import SinkBackpressure
from pipeline.store.influx import InfluxSink
from pipeline.store.sink import add_waiting


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_influx_is_retried_and_the_buffer_stays_bounded() -> None:
    settings = InfluxSettings(url=f"http://127.0.0.1:{_closed_port()}", timeout_ms=200)
    sink = InfluxSink(settings, batch_size=10, flush_interval_ms=10, max_buffer_points=50)
    sink.start()
    try:
        assert sink.add_many([f"m,node=n v={i} {i}" for i in range(80)]) == 80
        deadline = time.monotonic() + 5
        while sink.counters.retried < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sink.counters.retried >= 20  # at least two failed attempts of a full batch
        assert sink.counters.written == 0
        assert sink.counters.dropped == 30
        assert sink.buffered == 50
        assert sink.settled == 30  # the dropped oldest count as settled
        # a full buffer, but waiting would not drain it: no backpressure, the oldest go
        assert sink.add_many(["m,node=n v=80 80"]) == 81 and sink.counters.dropped == 31
        assert not sink.flush(timeout_s=0.2)
    finally:
        sink.close(timeout_s=0.2)


def test_a_sink_not_writing_yet_never_asks_the_stream_to_wait() -> None:
    sink = InfluxSink(InfluxSettings(), batch_size=10, max_buffer_points=50)
    for _ in range(2):
        sink.add_many([f"m,node=n v={i} {i}" for i in range(40)])
    assert sink.buffered == 50 and sink.counters.dropped == 30


def test_a_writer_waiting_on_a_slow_server_makes_add_many_refuse_with_a_retry_delay() -> None:
    server = socket.socket()  # listens, never answers: a write hangs until its timeout
    server.bind(("127.0.0.1", 0))
    server.listen()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    sink = InfluxSink(InfluxSettings(url=url, timeout_ms=30_000), batch_size=10)
    sink.start()
    try:
        assert sink.add_many([f"m,node=n v={i} {i}" for i in range(100_001)]) == 100_001
        with pytest.raises(SinkBackpressure) as refused:
            sink.add_many(["m,node=n v=0 0"])
        assert refused.value.retry_after_s > 0
        assert sink.buffered == 100_001 and sink.counters.dropped == 0  # nothing was taken
    finally:
        server.close()  # resets the hanging write, so the writer sees the stop
        sink.close(timeout_s=0.5)


class RefusingTwice:
    """A sink that asks its caller to wait twice, then takes the items."""

    def __init__(self) -> None:
        self.refusals = 2
        self.items: list[str] = []

    def add_many(self, items: list[str]) -> int:
        if self.refusals:
            self.refusals -= 1
            raise SinkBackpressure("lagging", retry_after_s=0.25)
        self.items += items
        return len(self.items)


def test_add_waiting_sleeps_as_long_as_the_sink_asks_and_adds_everything_once() -> None:
    sink, slept = RefusingTwice(), []
    assert add_waiting(sink, iter(["a", "b"]), sleep=slept.append) == 2  # type: ignore[arg-type]
    assert slept == [0.25, 0.25] and sink.items == ["a", "b"]


def test_sink_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        InfluxSink(InfluxSettings(), batch_size=0)
    with pytest.raises(ValueError, match="max_buffer_points"):
        InfluxSink(InfluxSettings(), batch_size=100, max_buffer_points=10)
