"""Load for the fault tests: simulated nodes published through the agent's spool and Publisher."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from influxdb_client import InfluxDBClient

from pipeline import topics
from pipeline.agent.publisher import Publisher
from pipeline.agent.spool import DirectorySpool
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.models import MetricBatch
from pipeline.sim.runner import SimulationReport, publish_rounds
from tests.unit.stream.workload import STEP_S, batch_at


def rounds(nodes: list[str], start: int, stop: int) -> Iterator[list[MetricBatch]]:
    """Rounds ``start``..``stop`` of every node's steady workload."""
    for seq in range(start, stop):
        yield [batch_at(node, seq) for node in nodes]


class FleetPublisher:
    """Publish rounds from a thread at ``rounds_per_s``, like agents would (spool on disk)."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic_settings: TopicSettings,
        spool_dir: Path,
        send_timeout_s: float = 3.0,
    ) -> None:
        spool = DirectorySpool(spool_dir, 256 * 1024 * 1024, fsync=False).open()
        topic = topics.METRICS.name(topic_settings.prefix)
        self.publisher = Publisher(kafka, topic, spool, send_timeout_s=send_timeout_s)
        self.report: SimulationReport | None = None
        self._thread: threading.Thread | None = None

    def start(self, source: Iterator[list[MetricBatch]], rounds_per_s: float) -> None:
        """Begin publishing ``source`` in the background."""
        speed = rounds_per_s * STEP_S

        def run() -> None:
            self.report = publish_rounds(source, self.publisher, speed, STEP_S)

        self._thread = threading.Thread(target=run, name="fleet-publisher", daemon=True)
        self._thread.start()

    def join(self, timeout_s: float) -> SimulationReport:
        """Wait for the end of the source and the final drain; the report of the run."""
        assert self._thread is not None
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the publisher did not finish in time"
        assert self.report is not None
        return self.report

    def drain_all(self, budget_s: float) -> int:
        """Deliver what is still spooled (after an outage); returns what is left."""
        self.publisher.drain(budget_s, force=True)
        return len(self.publisher.spool)

    def close(self) -> None:
        """Close the producer and the spool."""
        self.publisher.close(timeout_s=0)


def stored_host_scores(influx: InfluxSettings, node_regex: str) -> set[tuple[str, datetime]]:
    """(node, sampled_at) of every batch the worker scored and wrote, each once."""
    flux = (
        f'from(bucket: "{influx.bucket}")'
        " |> range(start: 1678-01-01T00:00:00Z, stop: 2262-01-01T00:00:00Z)"
        f' |> filter(fn: (r) => r._measurement == "scores" and r.metric == "_host"'
        f' and r._field == "score" and r.node =~ /{node_regex}/)'
        ' |> keep(columns: ["_time", "node"])'
    )
    return {(row["node"], row["_time"]) for row in _query(influx, flux)}


def _query(influx: InfluxSettings, flux: str) -> list[dict[str, Any]]:
    with InfluxDBClient(url=influx.url, token="", org="-", timeout=60_000) as client:
        tables = client.query_api().query(flux, org="-")
    return [record.values for table in tables for record in table.records]


def expected_keys(batches: list[MetricBatch]) -> set[tuple[str, datetime]]:
    """(node, sampled_at) of batches, as the worker writes them."""
    return {(b.node_id, b.sampled_at) for b in batches}
