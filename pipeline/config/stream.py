"""The Faust stream worker's settings."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from pipeline.config.base import Section


class StreamSettings(Section):
    """The Faust stream worker."""

    section: ClassVar[str] = "stream"

    app_id: str = Field("fleetwatch-worker", description="consumer group")
    data_dir: Path = Field(
        Path("/tmp/fleetwatch-worker"),  # noqa: S108 - a default for development; set in production
        description="Faust tables and local state",
    )
    store: Literal["rocksdb", "memory"] = Field(
        "rocksdb", description="table store: rocksdb (rocksdict) or memory"
    )
    web_port: int = Field(
        6066,
        ge=0,
        le=65535,
        description="port of the worker's Prometheus /metrics",
    )
    detector: str = Field("default", description="name in pipeline.detect.registry")
    window_s: float = Field(60.0, gt=0, le=3600, description="anomaly window length")
    forecast_horizon_s: float = Field(
        21_600.0,
        gt=0,
        le=30 * 86_400,
        description="a bounded series (used_percent, free_bytes, ...) forecast to run out within "
        "this many seconds raises an event",
    )
    peer_label: str = Field(
        "role", description="label whose value makes a cohort of peers (empty: no peer stage)"
    )
    peer_round_s: float = Field(60.0, gt=0, le=3600, description="peer comparison round")
    snapshot_interval_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="most often a node's models are saved",
    )
    detail_every_s: float = Field(
        0.0,
        ge=0,
        description="raw metrics and scores to InfluxDB at most "
        "once per node per this many seconds of sample time (0: every batch)",
    )
    write_detail: bool = Field(True, description="write raw metrics and host scores")
    session_timeout_s: float = Field(10.0, ge=6, le=300, description="Kafka group session")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="of the worker's log (INFO shows each rebalance's assignment)"
    )
    sink_buffer_points: int = Field(
        200_000,
        ge=1000,
        description="points kept while InfluxDB is down",
    )
    fetch_partition_bytes: int = Field(
        4 * 1024**2,
        ge=64 * 1024,
        description="most bytes fetched per partition "
        "at once; at most this times the assigned partitions is held in memory",
    )
    state_write_buffer_bytes: int = Field(
        4 * 1024**2,
        ge=1024**2,
        description="RocksDB write buffer of each "
        "partition's model store (two at most, plus an 8 MiB block cache, per partition)",
    )
    chunk_max: int = Field(
        500,
        ge=1,
        le=100_000,
        description="most messages handled per pass of the agent",
    )
    chunk_wait_s: float = Field(
        0.05,
        gt=0,
        le=5,
        description="longest a message waits for its chunk to fill",
    )
    input: Literal["faust", "lean"] = Field(
        "faust",
        description="how fleet.metrics reaches the detection: faust (an agent on Faust's "
        "stream) or lean (Faust's consumer hands messages straight to the worker; experimental)",
    )
