"""Secrets (Kafka SASL password, InfluxDB token, HMAC key) never show in logs, argv or errors.

Real commands run with the secrets set the way operators set them (environment, config file),
at DEBUG verbosity, against servers that refuse them; their output and ``/proc/<pid>/cmdline``
are searched for each secret.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.config import TopicSettings
from pipeline.control.keys import create_key
from pipeline.models import utc_now
from tests.faults.conftest import PrivateStack

RUNBOOK = Path(__file__).resolve().parents[2] / "deploy" / "runbooks" / "default.yaml"

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(240)]


def _secret(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(12)}"


def _run_for(command: list[str], env: dict[str, str], seconds: float) -> tuple[str, str]:
    """Run ``fleetwatch <command>`` for ``seconds`` (or until it exits): (output, cmdline)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "-v", *command],
        env=os.environ | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(1.0)
    cmdline = ""
    try:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        pass  # already exited: its argv was ours, checked below
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    return output, cmdline or " ".join(command)


def _assert_hidden(found_in: str, text: str, *hidden: str) -> None:
    for secret in hidden:
        assert secret not in text, f"a secret leaked into {found_in}"


def test_worker_with_sasl_and_token_from_env_leaks_nothing(
    private_stack: PrivateStack, fault_topics: TopicSettings, tmp_path: Path
) -> None:
    password, token = _secret("kafka-pw"), _secret("influx-token")
    env = {
        "FLEETWATCH_KAFKA_BOOTSTRAP": private_stack.kafka.bootstrap,
        "FLEETWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",  # the broker speaks PLAINTEXT
        "FLEETWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "FLEETWATCH_KAFKA_SASL_USERNAME": "fleet",
        "FLEETWATCH_KAFKA_SASL_PASSWORD": password,
        "FLEETWATCH_INFLUX_URL": private_stack.influx_url,
        "FLEETWATCH_INFLUX_TOKEN": token,
        "FLEETWATCH_TOPICS_PREFIX": fault_topics.prefix,
        "FLEETWATCH_STREAM_DATA_DIR": str(tmp_path / "w"),
        "FLEETWATCH_STREAM_WEB_PORT": "0",
    }
    output, cmdline = _run_for(["worker"], env, 12)
    assert output.strip(), "the worker said nothing about failing to authenticate"
    _assert_hidden("the worker's output", output, password, token)
    _assert_hidden("the worker's argv", cmdline, password, token)


def test_agent_with_password_in_config_file_leaks_nothing(
    private_stack: PrivateStack, fault_topics: TopicSettings, tmp_path: Path
) -> None:
    password = _secret("kafka-pw")
    config = tmp_path / "fleetwatch.toml"
    config.write_text(
        f'[kafka]\nbootstrap = "{private_stack.kafka.bootstrap}"\n'
        'security_protocol = "SASL_PLAINTEXT"\nsasl_mechanism = "PLAIN"\n'
        f'sasl_username = "fleet"\nsasl_password = "{password}"\n'
    )
    command = ["agent", "--config", str(config), "--interval-s", "1", "--node-id", "sec-1"]
    command += ["--spool-dir", str(tmp_path / "spool"), "--topic-prefix", fault_topics.prefix]
    output, cmdline = _run_for(command, {"FLEETWATCH_AGENT_SEND_TIMEOUT_S": "2"}, 8)
    assert "sec-1" in output, f"the agent never started: {output[-300:]}"
    _assert_hidden("the agent's output", output, password)
    _assert_hidden("the agent's argv", cmdline, password)


def test_query_error_with_a_token_names_the_server_not_the_token(tmp_path: Path) -> None:
    token = _secret("influx-token")
    env = {"FLEETWATCH_INFLUX_URL": "http://127.0.0.1:9", "FLEETWATCH_INFLUX_TOKEN": token}
    output, cmdline = _run_for(["anomalies", "--since", "1h"], env, 30)
    assert "127.0.0.1:9" in output, f"the error should name the server: {output[-300:]}"
    _assert_hidden("the query's error", output, token)
    _assert_hidden("the query's argv", cmdline, token)


def test_incident_stage_private_key_never_printed(
    private_stack: PrivateStack, fault_topics: TopicSettings, tmp_path: Path
) -> None:
    now = utc_now()
    window = (now, now + timedelta(days=1))
    key_file, _ = create_key(tmp_path, tmp_path / "ring.json", "issuer", "fleet", *window)
    private = json.loads(key_file.read_text())["private_key"]
    env = {
        "FLEETWATCH_KAFKA_BOOTSTRAP": private_stack.kafka.bootstrap,
        "FLEETWATCH_INFLUX_URL": private_stack.influx_url,
        "FLEETWATCH_TOPICS_PREFIX": fault_topics.prefix,
        "FLEETWATCH_CONTROL_KEYRING": str(tmp_path / "ring.json"),
        "FLEETWATCH_CONTROL_SIGNING_KEY": str(key_file),
        "FLEETWATCH_INCIDENTS_RUNBOOK": str(RUNBOOK),
    }
    output, cmdline = _run_for(["incidents-worker"], env, 8)
    assert output.strip(), "the incident stage said nothing: did it start?"
    _assert_hidden("the incident stage's output", output, private)
    _assert_hidden("the incident stage's argv", cmdline, private)
    key_file.chmod(0o644)  # refused: readable by others, and the refusal names the file only
    output, _ = _run_for(["incidents-worker"], env, 8)
    assert "readable by others" in output, output[-300:]
    _assert_hidden("the refusal of an exposed key", output, private)
