"""Session fixtures: real Kafka, InfluxDB and Alertmanager from deploy/local (or the env's).

A server that cannot be started or reached is an error, never a skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.local import run_stack


@dataclass(frozen=True)
class Stack:
    """Addresses of the servers under test, and where deploy/local keeps their data."""

    kafka: KafkaSettings
    influx_url: str
    alertmanager_url: str
    data_dir: Path | None  # None when the servers were given by the environment

    def configure_alertmanager(self, config_yaml: str) -> None:
        """Replace the routing config of our own Alertmanager and make it reload it."""
        if self.data_dir is None:
            raise RuntimeError("cannot reconfigure an Alertmanager this test session did not start")
        (self.data_dir / "alertmanager" / "alertmanager.yml").write_text(config_yaml)
        request = urllib.request.Request(f"{self.alertmanager_url}/-/reload", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200

    def restart(self, server: str) -> None:
        """Stop and start one of our own servers (kafka, influxdb, alertmanager), same port."""
        for action in ("down", "up"):
            self.restart_half(server, action)

    def restart_half(self, server: str, action: str) -> None:
        """``down`` or ``up`` for one of our own servers (an outage spans the two calls)."""
        if self.data_dir is None:
            raise RuntimeError("cannot restart servers this test session did not start")
        script = Path(__file__).resolve().parents[2] / "deploy" / "local" / f"{server}.sh"
        env = os.environ | {"FLEETWATCH_LOCAL_DIR": str(self.data_dir)}
        subprocess.run(["bash", str(script), action], env=env, check=True, capture_output=True)


def _wait_for_port(address: str, deadline_s: float) -> None:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answers on {address} after {deadline_s} s") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    bootstrap = os.environ.get("FLEETWATCH_KAFKA_BOOTSTRAP")
    influx_url = os.environ.get("FLEETWATCH_INFLUX_URL")
    alertmanager_url = os.environ.get("FLEETWATCH_ALERTMANAGER_URL")
    if bootstrap and influx_url and alertmanager_url:
        _wait_for_port(bootstrap, 10)
        for url in (influx_url, alertmanager_url):
            _wait_for_port(urllib.parse.urlparse(url).netloc, 10)
        yield Stack(KafkaSettings(bootstrap=bootstrap), influx_url, alertmanager_url, None)
        return
    data_dir = tmp_path_factory.mktemp("stack")
    addresses = run_stack("up", data_dir)
    try:
        yield Stack(
            KafkaSettings(bootstrap=addresses["FLEETWATCH_KAFKA_BOOTSTRAP"]),
            addresses["FLEETWATCH_INFLUX_URL"],
            addresses["FLEETWATCH_ALERTMANAGER_URL"],
            data_dir,
        )
    finally:
        run_stack("down", data_dir)


@pytest.fixture
def kafka(stack: Stack) -> KafkaSettings:
    return stack.kafka


@pytest.fixture
def topic_settings() -> TopicSettings:
    """Topics of this test only: a unique prefix isolates tests sharing one broker."""
    return TopicSettings(prefix=f"t{uuid.uuid4().hex[:10]}.", partitions=4)


@pytest.fixture
def influx(stack: Stack) -> InfluxSettings:
    """A database of this test only (InfluxDB 1.8: bucket = database/retention policy)."""
    database = f"test_{uuid.uuid4().hex[:10]}"
    query = urllib.parse.urlencode({"q": f'CREATE DATABASE "{database}"'}).encode()
    url = f"{stack.influx_url}/query"
    request = urllib.request.Request(url, data=query, method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
    return InfluxSettings(url=stack.influx_url, bucket=f"{database}/autogen")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_worker(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    tmp_path: Path,
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `fleetwatch worker` processes of this test; all are stopped at teardown."""
    processes: list[subprocess.Popen[bytes]] = []
    app_id = f"test-worker-{uuid.uuid4().hex[:8]}"

    def start(name: str = "w0", *extra: str) -> subprocess.Popen[bytes]:
        data_dir = tmp_path / name
        data_dir.mkdir(exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pipeline",
            "worker",
            "--kafka-bootstrap",
            kafka.bootstrap,
            "--influx-url",
            influx.url,
            "--topic-prefix",
            topic_settings.prefix,
            "--app-id",
            app_id,
            "--data-dir",
            str(data_dir),
            "--web-port",
            str(free_port()),
            *extra,
        ]
        env = os.environ | {
            "FLEETWATCH_INFLUX_BUCKET": influx.bucket,
            "FLEETWATCH_TOPICS_PARTITIONS": str(topic_settings.partitions),
        }
        log = (tmp_path / f"{name}.log").open("ab")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
