"""Two workers in one group share the partitions; one stops mid-stream, nothing is lost."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from subprocess import Popen

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.stream.meters import scrape
from tests.integration.conftest import free_port
from tests.integration.test_worker import (
    differing_scores,
    host_scores,
    publish,
    reference_scores,
    wait_for,
)
from tests.unit.stream.workload import batch_at

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]
NODES = [f"pair-{i:02d}" for i in range(12)]
ROUNDS = 240


def _batches_processed(port: int) -> float:
    """The worker's fleetwatch_batches_total, 0 while its web server is not up yet."""
    return scrape(port).get("fleetwatch_batches_total", 0.0)


def test_two_workers_process_every_node_with_one_owner_at_a_time(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETWATCH_STREAM_SNAPSHOT_INTERVAL_S", "2")
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    ports = [free_port(), free_port()]
    workers = [start_worker(f"w{i}", "--web-port", str(port)) for i, port in enumerate(ports)]
    batches = [batch_at(node, seq) for seq in range(ROUNDS) for node in NODES]
    chunks = [batches[i : i + len(NODES) * 20] for i in range(0, len(batches), len(NODES) * 20)]

    def produce() -> None:  # a steady stream over ~24 s, so the stop lands mid-stream
        for chunk in chunks:
            publish(kafka, topic_settings, chunk)
            time.sleep(2)

    producer = threading.Thread(target=produce)
    producer.start()
    wait_for(lambda: all(_batches_processed(port) > 0 for port in ports), 120, "both workers busy")
    workers[1].send_signal(signal.SIGTERM)
    workers[1].wait(timeout=60)
    producer.join()
    expected = reference_scores(batches)
    deadline = time.monotonic() + 180
    while len(actual := host_scores(influx, "^pair-")) < len(batches):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    assert workers[0].poll() is None, "remaining worker died"
    missing = sorted(set(expected) - set(actual))
    assert not missing, f"{len(missing)} batches skipped, e.g. {missing[:5]}"
    # Two owners learning one node at once would fork its model: its scores would drift from
    # a single uninterrupted run's. Equal scores everywhere mean one owner at a time.
    differing = differing_scores(expected, actual)
    assert not differing, f"{len(differing)} scores differ from a single-owner run: {differing[:3]}"
