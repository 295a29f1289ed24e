"""A live round trip through the real stack: simulated nodes → Kafka → worker → InfluxDB."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pipeline import topics
from pipeline.bus import ensure_topics, make_producer
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.errors import FleetwatchError
from pipeline.local import run_stack
from pipeline.models import MetricBatch, encode, utc_now
from pipeline.store.query import count_points

METRIC_NAMES = ("cpu.usage_user", "cpu.usage_system", "mem.used_percent", "load.load1")


def run_roundtrip(nodes: int, rounds: int, keep: bool, deadline_s: float = 90.0) -> None:
    """Publish ``nodes × rounds`` batches and wait until every point is readable in InfluxDB."""
    console = Console(stderr=True)
    with console.status("starting Kafka and InfluxDB on 127.0.0.1 (first run fetches them)"):
        addresses = run_stack("up")
    kafka = KafkaSettings(bootstrap=addresses["FLEETWATCH_KAFKA_BOOTSTRAP"])
    influx = InfluxSettings(url=addresses["FLEETWATCH_INFLUX_URL"])
    topic_settings = TopicSettings()
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    run_id = uuid.uuid4().hex[:8]
    expected = nodes * rounds * len(METRIC_NAMES)
    try:
        with _worker_process(kafka, influx, run_id):
            _publish(kafka, topic_settings, run_id, nodes, rounds, console)
            seen = _wait_for_points(influx, run_id, expected, deadline_s, console)
    finally:
        if not keep:
            run_stack("down")
    _print_summary(console, nodes, rounds, expected, seen, addresses, keep)
    if seen != expected:
        raise FleetwatchError(f"round trip incomplete: {seen} of {expected} points in InfluxDB")


def _publish(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    run_id: str,
    nodes: int,
    rounds: int,
    console: Console,
) -> None:
    producer = make_producer(kafka)
    rng = random.Random(run_id)  # noqa: S311 - demo values, not secrets
    topic = topics.METRICS.name(topic_settings.prefix)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("publishing MetricBatches", total=nodes * rounds)
        for round_index in range(rounds):
            for node in range(nodes):
                batch = MetricBatch(
                    node_id=f"demo-{run_id}-{node:03d}",
                    sampled_at=utc_now(),
                    labels={"role": "web" if node % 2 else "db"},
                    seq=round_index,
                    metrics={name: rng.uniform(0, 100) for name in METRIC_NAMES},
                )
                producer.send(topic, key=batch.node_id.encode(), value=encode(batch))
                progress.advance(task)
            time.sleep(0.2)  # distinct sample times per round
    producer.flush(timeout=30)
    producer.close()


def _wait_for_points(
    influx: InfluxSettings, run_id: str, expected: int, deadline_s: float, console: Console
) -> int:
    deadline = time.monotonic() + deadline_s
    seen = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("waiting for points in InfluxDB", total=expected)
        while time.monotonic() < deadline:
            seen = count_points(influx, "metrics", node_regex=f"^demo-{run_id}-")
            progress.update(task, completed=seen)
            if seen >= expected:
                break
            time.sleep(0.5)
    return seen


@contextmanager
def _worker_process(kafka: KafkaSettings, influx: InfluxSettings, run_id: str) -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="fleetwatch-demo-") as data_dir:
        command = [
            sys.executable,
            "-m",
            "pipeline",
            "worker",
            "--kafka-bootstrap",
            kafka.bootstrap,
            "--influx-url",
            influx.url,
            "--app-id",
            f"fleetwatch-demo-{run_id}",
            "--store",
            "memory",
            "--data-dir",
            data_dir,
            "--web-port",
            str(_free_port()),
        ]
        log_file = Path(data_dir) / "worker.log"
        with log_file.open("w") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            try:
                yield
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _print_summary(
    console: Console,
    nodes: int,
    rounds: int,
    expected: int,
    seen: int,
    addresses: dict[str, str],
    keep: bool,
) -> None:
    table = Table(title="fleetwatch round trip")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("nodes × rounds", f"{nodes} × {rounds}")
    table.add_row("points published", str(expected))
    table.add_row("points read back from InfluxDB", str(seen))
    for key, value in addresses.items():
        table.add_row(key, value + ("" if keep else " (stopped)"))
    Console().print(table)
