"""A ``fleetwatch worker`` subprocess for benchmarks, stopped (SIGTERM) when they finish."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings


@contextmanager
def worker_process(
    kafka: KafkaSettings, influx: InfluxSettings, topic_settings: TopicSettings, window_s: float
) -> Iterator[int]:
    """Run one worker on the bench's topics; yields the port of its ``/metrics``."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="fleetwatch-bench-") as data_dir:
        command = [
            sys.executable, "-m", "pipeline", "worker",
            "--kafka-bootstrap", kafka.bootstrap,
            "--influx-url", influx.url,
            "--topic-prefix", topic_settings.prefix,
            "--app-id", f"fleetwatch-bench-{uuid.uuid4().hex[:8]}",
            "--data-dir", data_dir,
            "--web-port", str(port),
            "--window-s", str(window_s),
            "--no-write-detail",  # anomalies only: what the bench times
        ]  # fmt: skip
        env = os.environ | {
            "FLEETWATCH_INFLUX_BUCKET": influx.bucket,
            "FLEETWATCH_TOPICS_PARTITIONS": str(topic_settings.partitions),
        }
        with (Path(data_dir) / "worker.log").open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            try:
                yield port
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
