"""A slower InfluxDB holds the stream back instead of filling the sink's buffer and dropping.

A worker with a small sink buffer (4,000 points) writes every batch's detail (~80 points) for a
backlog of 5,000 batches: far faster than InfluxDB takes them. Every point must arrive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bench.worker_process import WorkerProcess
from pipeline.bus import ensure_topics
from pipeline.commands.stream_bench import Fleet, publish_backlog
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from tests.faults.fleet import stored_host_scores
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
NODES, METRICS, ROUNDS = 50, 40, 100


@pytest.mark.timeout(300)
def test_slow_influxdb_holds_the_stream_back_and_loses_no_point(
    kafka: KafkaSettings, influx: InfluxSettings, topic_settings: TopicSettings, tmp_path: Path
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    fleet = Fleet(NODES, METRICS)
    metrics_topic = topics.METRICS.name(topic_settings.prefix)
    publish_backlog(kafka, metrics_topic, fleet, ROUNDS, datetime.now(UTC) - timedelta(hours=1))
    worker = WorkerProcess.in_directory(
        tmp_path,
        "w0",
        kafka,
        influx,
        topic_settings,
        extra_env={
            "FLEETWATCH_STREAM_SINK_BUFFER_POINTS": "4000",
            "FLEETWATCH_STREAM_WRITE_DETAIL": "true",
            "FLEETWATCH_STREAM_DETAIL_EVERY_S": "0",
        },
    )
    worker.start()
    try:
        wait_for(
            lambda: worker.metrics().get("fleetwatch_batches_total", 0) >= NODES * ROUNDS,
            180,
            "every batch processed",
        )
        wait_for(lambda: worker.metrics().get("fleetwatch_sink_buffer_points") == 0, 60, "drain")
        metrics = worker.metrics()
    finally:
        worker.stop()
    assert metrics["fleetwatch_sink_dropped_points"] == 0
    assert metrics["fleetwatch_sink_wait_seconds_total"] > 0, "the stream never had to wait"
    per_batch = 2 * METRICS + 1  # raw metrics, series scores, the host score
    assert metrics["fleetwatch_sink_written_points"] >= NODES * ROUNDS * per_batch
    stored = stored_host_scores(influx, f"^{fleet.node_id(0)[:-6]}")
    assert len(stored) == NODES * ROUNDS
