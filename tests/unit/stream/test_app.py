"""The worker's model table is built with bounded RocksDB memory, not Faust's defaults."""

from __future__ import annotations

from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import STATE_TABLE, make_worker


def test_model_table_bounds_rocksdb_write_buffers_and_cache() -> None:
    stream = StreamSettings(store="rocksdb", state_write_buffer_bytes=6 * 1024**2)
    worker = make_worker(KafkaSettings(), TopicSettings(prefix="unit."), stream, InfluxSettings())
    table = worker.app.tables[STATE_TABLE]
    assert table.options == {
        "write_buffer_size": 6 * 1024**2,
        "max_write_buffer_number": 2,
        "block_cache_size": 8 * 1024**2,
    }
