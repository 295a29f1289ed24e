"""Faust app factory for ``fleetwatch worker``: topics, sink and agents wired from settings."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from pipeline import topics
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.store.influx import InfluxSink


@dataclass
class Worker:
    """Everything the agents of one worker share."""

    app: faust.App
    sink: InfluxSink
    metrics_topic: faust.TopicT
    deadletter_topic: faust.TopicT


def make_worker(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    stream: StreamSettings,
    influx: InfluxSettings,
) -> Worker:
    """Build the Faust app and its topics; nothing connects until the app starts."""
    app = faust.App(
        stream.app_id,
        broker=[f"kafka://{address}" for address in kafka.bootstrap.split(",")],
        store="rocksdb://" if stream.store == "rocksdb" else "memory://",
        datadir=str(stream.data_dir),
        web_host="127.0.0.1",
        web_port=stream.web_port,
        topic_partitions=topic_settings.partitions,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
    )
    worker = Worker(
        app=app,
        sink=InfluxSink(influx),
        metrics_topic=_raw_topic(app, topics.METRICS.name(topic_settings.prefix)),
        deadletter_topic=_raw_topic(app, topics.DEADLETTER.name(topic_settings.prefix)),
    )
    from pipeline.stream.agents import register  # agents need the Worker they close over

    register(worker)
    return worker


def _raw_topic(app: faust.App, name: str) -> faust.TopicT:
    """Bytes in, bytes out: validation is ours (pydantic), so a bad message can be dead-lettered."""
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
