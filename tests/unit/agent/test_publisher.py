"""Publisher without a reachable broker: nothing is lost, retries back off (no Kafka needed)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.agent.publisher import MAX_BACKOFF_S, Publisher
from pipeline.agent.spool import DirectorySpool, MemorySpool
from pipeline.config import KafkaSettings
from tests.conftest import make_batch


def _closed_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def unreachable() -> KafkaSettings:
    return KafkaSettings(bootstrap=f"127.0.0.1:{_closed_port()}")


def test_unreachable_broker_keeps_batches_and_backs_off(unreachable: KafkaSettings) -> None:
    clock = _Clock()
    spool = MemorySpool(1_000_000)
    publisher = Publisher(unreachable, "t.fleet.metrics", spool, send_timeout_s=0.3, clock=clock)
    publisher.publish_many([make_batch(seq=i) for i in range(3)])

    assert publisher.drain(budget_s=5) == 0
    assert len(spool) == 3 and publisher.failures == 1
    assert not publisher.connected
    assert publisher.drain(budget_s=5) == 0  # still backing off: no attempt at all
    assert publisher.failures == 1

    backoffs = []
    for _ in range(7):
        clock.now += MAX_BACKOFF_S
        before = clock.now
        publisher.drain(budget_s=5)
        backoffs.append(publisher._retry_at - before)
    assert backoffs == sorted(backoffs) and backoffs[-1] == MAX_BACKOFF_S
    assert len(spool) == 3 and publisher.delivered == 0


def test_close_keeps_undelivered_batches_on_disk(
    unreachable: KafkaSettings, tmp_path: Path
) -> None:
    spool = DirectorySpool(tmp_path, 1_000_000, fsync=False).open()
    publisher = Publisher(unreachable, "t.fleet.metrics", spool, send_timeout_s=0.3)
    publisher.publish_many([make_batch(seq=i) for i in range(2)])
    publisher.close(timeout_s=0.5)
    reopened = DirectorySpool(tmp_path, 1_000_000).open()
    assert [e.key for e in reopened.heads(5)] == [b"node-1"]
    assert len(reopened) == 2


@pytest.mark.parametrize(("field", "value"), [("send_timeout_s", 0), ("max_wave", 0)])
def test_invalid_arguments_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        Publisher(KafkaSettings(), "t", MemorySpool(10), **{field: value})  # type: ignore[arg-type]
