"""A ``fleetwatch worker`` child process of a benchmark, and what it reports about itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pipeline.agent.overhead import memory_bytes
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.shutdown import terminate
from pipeline.stream.meters import scrape


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WorkerProcess:
    """One ``python -m pipeline worker`` with its own state directory, port and log.

    Settings travel as environment variables, never as arguments, so that secrets (SASL
    password, InfluxDB token) stay out of ``ps`` and ``/proc/<pid>/cmdline``.
    """

    kafka: KafkaSettings
    influx: InfluxSettings
    topic_settings: TopicSettings
    app_id: str
    data_dir: Path
    log_path: Path
    web_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)  # more FLEETWATCH_* settings
    module: tuple[str, ...] = ("pipeline", "worker")  # what ``python -m`` runs
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @classmethod
    def in_directory(
        cls,
        directory: Path,
        name: str,
        kafka: KafkaSettings,
        influx: InfluxSettings,
        topic_settings: TopicSettings,
        **options: Any,
    ) -> WorkerProcess:
        """A process in its own consumer group, with state and ``<name>.log`` in ``directory``."""
        return cls(
            kafka,
            influx,
            topic_settings,
            app_id=f"fleetwatch-{name}-{uuid.uuid4().hex[:8]}",
            data_dir=directory / "state",
            log_path=directory / f"{name}.log",
            **options,
        )

    def start(self) -> None:
        """Start the worker; returns at once (poll ``metrics()`` to see it come up)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", *self.module],
            env=os.environ | self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def environment(self) -> dict[str, str]:
        """FLEETWATCH_* variables for every setting the worker needs."""
        stream = {"app_id": self.app_id, "data_dir": self.data_dir, "web_port": self.web_port}
        return (
            self.kafka.environment()
            | self.influx.environment()
            | self.topic_settings.environment()
            | {StreamSettings.env_name(name): str(value) for name, value in stream.items()}
            | self.extra_env
        )

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def log_excerpt(self, tail_bytes: int, first_errors: int = 10) -> str:
        """The log's first ``first_errors`` ERROR/CRITICAL lines, then its last ``tail_bytes``.

        Where a crash began and how the worker ended, for an error message: the log itself may
        live in a temporary directory that is gone by the time anyone reads it.
        """
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        errors = [line for line in text.splitlines() if "[ERROR]" in line or "[CRITICAL]" in line]
        return "\n".join([*errors[:first_errors], "...", text[-tail_bytes:]])

    def metrics(self) -> dict[str, float]:
        """The worker's ``/metrics`` samples; empty while its web server is not up."""
        return scrape(self.web_port)

    def batches_processed(self) -> int:
        """Batches the worker has processed so far (0 while its web server is not up)."""
        return int(self.metrics().get("fleetwatch_batches_total", 0.0))

    def rss_bytes(self) -> int:
        """Resident memory of the worker now (0 once it has exited)."""
        if self.process is None or not self.alive:
            return 0
        try:
            return memory_bytes(self.process.pid)[0]
        except OSError:
            return 0

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (the worker saves its models and flushes its sink), then SIGKILL if stuck."""
        terminate(self.process, timeout_s)
        if self._log is not None:
            self._log.close()
            self._log = None
