"""Foundation round trip: kafka-python → Faust agent → InfluxDB → Flux, compared field by field."""

from __future__ import annotations

from collections.abc import Callable
from subprocess import Popen

import pytest
from influxdb_client import InfluxDBClient

from pipeline import topics
from pipeline.bus import ensure_topics, make_consumer, make_producer
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.models import DeadLetter, decode, encode
from tests.conftest import make_batch
from tests.waiting import wait_for as _wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def _read_metrics(influx: InfluxSettings, node_id: str) -> list[dict[str, object]]:
    flux = (
        f'from(bucket: "{influx.bucket}") |> range(start: 2025-01-01T00:00:00Z)'
        f' |> filter(fn: (r) => r._measurement == "metrics" and r.node == "{node_id}")'
    )
    with InfluxDBClient(url=influx.url, token="", org="-") as client:
        tables = client.query_api().query(flux, org="-")
    return [record.values for table in tables for record in table.records]


def test_metric_batch_reaches_influxdb_field_by_field(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    worker = start_worker()
    batch = make_batch(
        node_id="rt-node-1",
        metrics={"cpu.usage_user": 12.5, "mem.used_percent": 40.25, "disk.root.used_percent": 71.0},
    )
    producer = make_producer(kafka)
    producer.send(topics.METRICS.name(topic_settings.prefix), key=b"rt-node-1", value=encode(batch))
    producer.flush(timeout=30)

    def all_points() -> list[dict[str, object]]:
        rows = _read_metrics(influx, "rt-node-1")
        return rows if len(rows) == len(batch.metrics) else []

    rows = _wait_for(all_points, 150, "three points in InfluxDB")
    assert worker.poll() is None, "worker died"
    by_metric = {row["metric"]: row for row in rows}  # type: ignore[union-attr]
    assert set(by_metric) == set(batch.metrics)
    for name, value in batch.metrics.items():
        row = by_metric[name]
        assert row["_value"] == value
        assert row["_field"] == "value"
        assert row["_time"] == batch.sampled_at
        assert row["node"] == "rt-node-1"
        assert (row["role"], row["zone"]) == ("web", "z1")


def test_malformed_message_goes_to_dead_letter_and_stream_goes_on(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    start_worker()
    metrics_topic = topics.METRICS.name(topic_settings.prefix)
    producer = make_producer(kafka)
    producer.send(metrics_topic, key=b"bad-node", value=b'{"node_id": "bad-node", "metrics": ')
    good = make_batch(node_id="after-bad")
    producer.send(metrics_topic, key=b"after-bad", value=encode(good))
    producer.flush(timeout=30)

    # The good batch after the bad one proves the worker is up and went past it (a loaded CI
    # machine can take a minute to start a Faust worker); the dead letter is then already sent.
    _wait_for(
        lambda: len(_read_metrics(influx, "after-bad")) == len(good.metrics),
        150,
        "the good batch after the bad one",
    )
    consumer = make_consumer(
        kafka, topics.DEADLETTER.name(topic_settings.prefix), consumer_timeout_ms=30_000
    )
    letters = [decode(DeadLetter, record.value) for record in consumer]
    consumer.close()
    assert len(letters) == 1
    (letter,) = letters
    assert letter.topic == metrics_topic
    assert letter.raw == b'{"node_id": "bad-node", "metrics": '
    assert letter.reason.startswith("invalid MetricBatch")
