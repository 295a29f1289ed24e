"""A private Kafka + InfluxDB for the fault tests, which kill and restart them.

Never the shared stack, whatever the environment says: the servers are started here with a data
directory of this session (deploy/local scripts), and killed by the PID those scripts recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bench.worker_process import WorkerProcess
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from tests.waiting import wait_for

SCRIPTS = Path(__file__).resolve().parents[2] / "deploy" / "local"
PIDFILES = {"kafka": "kafka/kafka.pid", "influxdb": "influxdb/influxd.pid"}


@dataclass(frozen=True)
class PrivateStack:
    """Servers of this session only; a restart keeps their data and ports."""

    data_dir: Path
    kafka: KafkaSettings
    influx_url: str

    def run(self, server: str, action: str) -> str:
        """``deploy/local/<server>.sh <action>`` on this stack's data directory."""
        env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_PORT", "INFLUX_PORT")}
        env["FLEETWATCH_LOCAL_DIR"] = str(self.data_dir)
        done = subprocess.run(
            ["bash", str(SCRIPTS / f"{server}.sh"), action],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=180,
        )
        return done.stdout

    def kill(self, server: str) -> None:
        """SIGKILL the server (no shutdown hooks, as in a crash) and wait until it is gone."""
        pidfile = self.data_dir / PIDFILES[server]
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _alive(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server} (pid {pid}) survived SIGKILL for 30 s")
            time.sleep(0.1)

    def start(self, server: str) -> None:
        """Start a stopped or killed server again on its old port; returns once it is ready."""
        self.run(server, "up")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of ours stays a zombie until reaped; it serves nothing any more.
    try:
        return (Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]) != "Z"
    except (OSError, IndexError):
        return False


def _address(output: str, key: str) -> str:
    return next(line.split("=", 1)[1] for line in output.splitlines() if line.startswith(key))


@pytest.fixture(scope="session")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    data_dir = tmp_path_factory.mktemp("fault-stack")
    stack = PrivateStack(data_dir, KafkaSettings(), "")
    kafka_out, influx_out = stack.run("kafka", "up"), stack.run("influxdb", "up")
    stack = PrivateStack(
        data_dir,
        KafkaSettings(bootstrap=_address(kafka_out, "FLEETWATCH_KAFKA_BOOTSTRAP=")),
        _address(influx_out, "FLEETWATCH_INFLUX_URL="),
    )
    try:
        yield stack
    finally:
        for server in ("kafka", "influxdb"):
            stack.run(server, "down")


@pytest.fixture
def fault_topics(private_stack: PrivateStack) -> TopicSettings:
    """Topics of this test only, created up front."""
    settings = TopicSettings(prefix=f"f{uuid.uuid4().hex[:10]}.", partitions=4)
    ensure_topics(private_stack.kafka, settings, topics.ALL_TOPICS)
    return settings


@pytest.fixture
def fault_influx(private_stack: PrivateStack) -> InfluxSettings:
    """A database of this test only."""
    database = f"fault_{uuid.uuid4().hex[:10]}"
    query = urllib.parse.urlencode({"q": f'CREATE DATABASE "{database}"'}).encode()
    url = f"{private_stack.influx_url}/query"
    request = urllib.request.Request(url, data=query, method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
    return InfluxSettings(url=private_stack.influx_url, bucket=f"{database}/autogen")


@pytest.fixture
def start_fault_worker(
    private_stack: PrivateStack,
    fault_influx: InfluxSettings,
    fault_topics: TopicSettings,
    tmp_path: Path,
) -> Iterator[Callable[[str], WorkerProcess]]:
    """Start `fleetwatch worker` processes on the private stack, each returned once it serves its
    /metrics; all stopped at teardown."""
    workers: list[WorkerProcess] = []
    app_id = f"fault-{uuid.uuid4().hex[:8]}"

    def start(name: str = "w0") -> WorkerProcess:
        worker = WorkerProcess(
            private_stack.kafka,
            fault_influx,
            fault_topics,
            app_id,
            tmp_path / name,
            tmp_path / f"{name}.log",
        )
        worker.start()
        workers.append(worker)
        wait_for(worker.metrics, 120, f"the worker {name}'s /metrics")
        return worker

    yield start
    for worker in workers:
        worker.stop()
