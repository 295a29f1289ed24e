"""Builds a `fleetwatch worker`: its Faust app, topics, state table, sink and agents."""

from __future__ import annotations

import faust

from pipeline import topics
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.store.influx import InfluxSink
from pipeline.stream.acks import AckOrder
from pipeline.stream.agents import register
from pipeline.stream.checkpoint import Checkpoints
from pipeline.stream.consumer import use_fleet_consumer
from pipeline.stream.credentials import broker_credentials
from pipeline.stream.meters import Meters
from pipeline.stream.peers import register_peers
from pipeline.stream.process import BatchProcessor
from pipeline.stream.worker import FleetApp, Worker

STATE_TABLE = "node-models"
# How long a rebalance or shutdown waits for InfluxDB before saving models: within Kafka's
# rebalance budget; nodes whose points are still unwritten then are left to be re-read.
SETTLE_TIMEOUT_S = 5.0


def make_app(
    kafka: KafkaSettings, topic_settings: TopicSettings, stream: StreamSettings
) -> FleetApp:
    """The bare Faust app; nothing connects until it starts."""
    app = FleetApp(
        stream.app_id,
        broker=[f"kafka://{address}" for address in kafka.bootstrap.split(",")],
        broker_credentials=broker_credentials(kafka),  # SASL/TLS as every other client
        store="rocksdb://" if stream.store == "rocksdb" else "memory://",
        datadir=str(stream.data_dir),
        web_host="127.0.0.1",
        web_port=stream.web_port,
        topic_partitions=topic_settings.partitions,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=stream.session_timeout_s,
        broker_heartbeat_interval=stream.session_timeout_s / 4,
        # Unsaved messages stay unacknowledged by design (see checkpoint.py); waiting for them
        # would stall every rebalance and shutdown. They are re-read and re-learned instead.
        stream_wait_empty=False,
        # Faust's 1 MiB holds ~200 batches of 200 metrics: the worker then waits on fetch round
        # trips half the time (bench pipeline: 1,390 -> 2,900 batches/s at 4 MiB).
        consumer_max_fetch_size=stream.fetch_partition_bytes,
    )
    use_fleet_consumer(app)
    return app


def make_worker(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    stream: StreamSettings,
    influx: InfluxSettings,
) -> Worker:
    """Build the Faust app, its topics, state table and agents."""
    app = make_app(kafka, topic_settings, stream)
    table = app.Table(
        STATE_TABLE,
        default=None,
        key_type=bytes,  # Faust picks the "raw" codec from the bytes type, for changelog and store
        value_type=bytes,
        partitions=topic_settings.partitions,
        options=rocksdb_options(stream),
    )
    processor = BatchProcessor(stream)
    acks = AckOrder()
    sink = InfluxSink(
        influx,
        batch_size=min(5000, stream.sink_buffer_points // 4),  # a small buffer still batches
        max_buffer_points=stream.sink_buffer_points,
    )
    worker = Worker(
        app=app,
        settings=stream,
        sink=sink,
        processor=processor,
        checkpoints=Checkpoints(
            table,
            new_model=processor.new_model,
            restore_model=processor.restore_model,
            interval_s=stream.snapshot_interval_s,
            sink=sink,
            settle_timeout_s=SETTLE_TIMEOUT_S,
            acknowledge=acks.done,
        ),
        meters=Meters(),
        metrics_topic=raw_topic(app, topics.METRICS.name(topic_settings.prefix)),
        anomalies_topic=raw_topic(app, topics.ANOMALIES.name(topic_settings.prefix)),
        deadletter_topic=raw_topic(app, topics.DEADLETTER.name(topic_settings.prefix)),
        acks=acks,
    )
    register(worker)
    register_peers(worker, raw_topic(app, topics.PEERS.name(topic_settings.prefix)))
    return worker


def rocksdb_options(stream: StreamSettings) -> dict[str, int]:
    """Memory bounds of each partition's RocksDB model store.

    Faust's defaults (a 64 MiB write buffer, up to three of them, and a 2 GiB block cache per
    partition) let a worker's memory climb by ~64 MiB per partition until the buffers first
    flush, twelve minutes into a soak; models are written every few seconds and read only when a
    node is loaded, so small buffers and a small cache cost nothing.
    """
    return {
        "write_buffer_size": stream.state_write_buffer_bytes,
        "max_write_buffer_number": 2,
        "block_cache_size": 8 * 1024**2,
    }


def raw_topic(app: faust.App, name: str) -> faust.TopicT:
    """Bytes in, bytes out: validation is ours (pydantic), so a bad message can be dead-lettered."""
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
