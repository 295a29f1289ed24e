"""The stream worker on real Kafka and InfluxDB: injected faults, hostile messages.

Also holds the helpers the other test_worker_*.py modules share.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from subprocess import Popen
from typing import Any

import pytest
from influxdb_client import InfluxDBClient

from pipeline import topics
from pipeline.bus import ensure_topics, make_consumer, make_producer
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.models import (
    DEAD_LETTER_RAW_BYTES,
    AnomalyEvent,
    DeadLetter,
    MetricBatch,
    decode,
    encode,
)
from pipeline.stream.process import BatchProcessor
from tests.unit.stream.workload import batch_at, steady
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
WARM = 400
# Both ways fleet.metrics can reach the detection (`FLEETWATCH_STREAM_INPUT`): each must carry a
# fault through to InfluxDB and turn hostile messages into dead letters.
INPUTS = pytest.mark.parametrize("stream_input", ["faust", "lean"])


def publish(kafka: KafkaSettings, topic_settings: TopicSettings, batches: Iterable[Any]) -> int:
    """Send batches (or raw bytes) keyed by node; returns how many."""
    producer = make_producer(kafka, linger_ms=5)
    topic = topics.METRICS.name(topic_settings.prefix)
    futures = []
    for item in batches:
        if isinstance(item, MetricBatch):
            futures.append(producer.send(topic, key=item.node_id.encode(), value=encode(item)))
        else:
            futures.append(producer.send(topic, key=b"hostile", value=item))
    producer.flush(timeout=130)
    producer.close()
    for future in futures:  # a batch the broker never took would read as one the worker lost
        future.get(timeout=0)
    return len(futures)


def read_rows(influx: InfluxSettings, measurement: str, node_regex: str) -> list[dict[str, Any]]:
    """Every record of ``measurement`` for nodes matching ``node_regex``."""
    flux = (
        f'from(bucket: "{influx.bucket}") |> range(start: 2025-01-01T00:00:00Z)'
        f' |> filter(fn: (r) => r._measurement == "{measurement}" and r.node =~ /{node_regex}/)'
    )
    with InfluxDBClient(url=influx.url, token="", org="-", timeout=30_000) as client:
        tables = client.query_api().query(flux, org="-")
    return [record.values for table in tables for record in table.records]


def host_scores(influx: InfluxSettings, node_regex: str) -> dict[tuple[str, datetime], float]:
    """(node, sampled_at) → host score the worker wrote."""
    rows = read_rows(influx, "scores", node_regex)
    return {
        (row["node"], row["_time"]): row["_value"]
        for row in rows
        if row["metric"] == "_host" and row["_field"] == "score"
    }


def reference_scores(batches: list[MetricBatch]) -> dict[tuple[str, datetime], float]:
    """Host scores of one uninterrupted in-process run over the same batches."""
    processor = BatchProcessor(StreamSettings(write_detail=False))
    models: dict[str, Any] = {}
    scores = {}
    for batch in batches:
        model = models.setdefault(batch.node_id, processor.new_model())
        host = processor.process_one(model, batch).host_score
        assert host is not None
        scores[(batch.node_id, batch.sampled_at)] = host.score
    return scores


# Scores are compared across processes: NumPy's SIMD reductions may differ in the last bit between
# two processes and the detector amplifies that to ~1e-5, while one sample skipped or learned
# twice moves later scores by ~1e-2. The tolerance sits between the two.
SCORE_TOLERANCE = 2e-3


def differing_scores(
    expected: dict[tuple[str, datetime], float], actual: dict[tuple[str, datetime], float]
) -> list[tuple[tuple[str, datetime], float, float]]:
    """(key, expected, actual) of every score further than SCORE_TOLERANCE from expected."""
    return [
        (key, score, actual[key])
        for key, score in sorted(expected.items())
        if abs(actual[key] - score) > SCORE_TOLERANCE
    ]


def read_topic(kafka: KafkaSettings, name: str, idle_ms: int = 5_000) -> list[bytes]:
    """Every message value of a topic, read until ``idle_ms`` pass without a new one."""
    consumer = make_consumer(kafka, name, consumer_timeout_ms=idle_ms)
    values = [message.value for message in consumer]
    consumer.close()
    return values


@INPUTS
def test_injected_fault_reaches_the_topic_and_influxdb_with_its_window(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    stream_input: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETWATCH_STREAM_INPUT", stream_input)
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    worker = start_worker()
    fault_seqs = {WARM + 3, WARM + 4}
    batches = steady("fault-1", 0, WARM) + steady("calm-1", 0, WARM)
    batches += [
        batch_at("fault-1", seq, fault=95.0 if seq in fault_seqs else None)
        for seq in range(WARM, WARM + 20)
    ]
    publish(kafka, topic_settings, batches)
    anomalies_topic = topics.ANOMALIES.name(topic_settings.prefix)

    def cpu_events() -> list[AnomalyEvent]:
        events = [decode(AnomalyEvent, raw) for raw in read_topic(kafka, anomalies_topic)]
        return [e for e in events if e.metric == "cpu.usage_user"]

    events = wait_for(cpu_events, 120, "an AnomalyEvent for cpu.usage_user")
    assert worker.poll() is None, "worker died"
    assert {e.node_id for e in events} == {"fault-1"}
    fault_at = batch_at("fault-1", WARM + 3).sampled_at
    (event,) = events
    assert event.window_start_at <= fault_at < event.window_end_at
    assert event.window_end_at - event.window_start_at == timedelta(seconds=60)
    assert event.observed == 95.0

    def stored() -> list[dict[str, Any]]:
        rows = read_rows(influx, "anomalies", "^fault-1$")
        return [r for r in rows if r["metric"] == "cpu.usage_user" and r["_field"] == "event_id"]

    (row,) = wait_for(stored, 60, "the anomaly point in InfluxDB")
    assert row["_value"] == event.event_id
    assert row["_time"] == event.window_start_at
    assert row["severity"] == event.severity and row["role"] == "web"


HOSTILE: list[bytes] = [
    b"\x00\xff\xfe garbage",
    b"{not json",
    b"[" * 50_000 + b"]" * 50_000,  # deeply nested
    b'{"node_id": "x", "sampled_at": "2026-01-01T00:00:00Z", "metrics": {"cpu.usage_user": NaN}}',
    json.dumps(
        {
            "node_id": "x",
            "sampled_at": "2026-01-01T00:00:00Z",
            "metrics": {f"cpu.m{i}": 1.0 for i in range(3000)},  # over the per-batch limit
        }
    ).encode(),
    json.dumps(
        {"node_id": "x; DROP", "sampled_at": "2026-01-01T00:00:00Z", "metrics": {}}
    ).encode(),
    json.dumps(
        {"node_id": "x", "sampled_at": "2026-01-01T00:00:00", "metrics": {"cpu.a": 1.0}}
    ).encode(),  # naive timestamp
    b'{"node_id": "x", "metrics": {}, "sampled_at": "2026-01-01T00:00:00Z", "evil": 1}',
    b"x" * 900_000,
]


@INPUTS
def test_hostile_messages_become_dead_letters_and_the_worker_goes_on(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    stream_input: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETWATCH_STREAM_INPUT", stream_input)
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    worker = start_worker()
    good = steady("after-hostile", 0, 3)
    publish(kafka, topic_settings, [good[0], *HOSTILE, *good[1:]])
    deadletter_topic = topics.DEADLETTER.name(topic_settings.prefix)

    def letters() -> list[DeadLetter]:
        found = [decode(DeadLetter, raw) for raw in read_topic(kafka, deadletter_topic)]
        return found if len(found) >= len(HOSTILE) else []

    found = wait_for(letters, 120, f"{len(HOSTILE)} dead letters")
    assert len(found) == len(HOSTILE)
    metrics_topic = topics.METRICS.name(topic_settings.prefix)
    # the one message too large to carry whole keeps its first DEAD_LETTER_RAW_BYTES
    cut = DEAD_LETTER_RAW_BYTES
    assert sorted(letter.raw for letter in found) == sorted(h[:cut] for h in HOSTILE)
    assert all(letter.topic == metrics_topic for letter in found)
    assert len({(letter.partition, letter.offset) for letter in found}) == len(HOSTILE)
    assert all(letter.reason for letter in found)
    wait_for(lambda: len(host_scores(influx, "^after-hostile$")) == 3, 60, "the good batches after")
    assert worker.poll() is None, "worker died"
    assert {t for _, t in host_scores(influx, "^after-hostile$")} == {b.sampled_at for b in good}
