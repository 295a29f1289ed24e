"""Helpers of the agent integration tests: run `fleetwatch agent`, read its batches back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.bus import make_consumer
from pipeline.config import KafkaSettings
from pipeline.models import MetricBatch, decode


def start_agent(
    kafka: KafkaSettings, prefix: str, node_id: str, spool_dir: Path, log: Path
) -> subprocess.Popen[bytes]:
    """`fleetwatch agent` at a 1 s interval with short Kafka timeouts."""
    command = [sys.executable, "-m", "pipeline", "agent", "--interval-s", "1"]
    command += ["--node-id", node_id, "--spool-dir", str(spool_dir), "--topic-prefix", prefix]
    env = os.environ | {
        "FLEETWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "FLEETWATCH_AGENT_SEND_TIMEOUT_S": "3",
        "FLEETWATCH_AGENT_SHUTDOWN_TIMEOUT_S": "3",
    }
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_agent(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM and wait; the agent must exit on its own (graceful flush)."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def spool_state(spool_dir: Path) -> tuple[int, int]:
    """(entries waiting in the spool, next sequence number the agent will use)."""
    waiting = len(list(spool_dir.glob("*.msg")))
    state = spool_dir / "state.json"
    next_id = json.loads(state.read_text())["next_id"] if state.exists() else 0
    return waiting, next_id


def delivered_all(spool_dir: Path, at_least: int) -> bool:
    """The agent produced ``at_least`` batches and Kafka acknowledged every one."""
    waiting, produced = spool_state(spool_dir)
    return waiting == 0 and produced >= at_least


def wait_for(predicate: Callable[[], bool], deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")
        time.sleep(0.3)


def read_batches(kafka: KafkaSettings, topic: str, idle_ms: int = 6000) -> list[MetricBatch]:
    """Every batch on ``topic`` in partition order, decoded (invalid ones raise)."""
    consumer = make_consumer(kafka, topic, consumer_timeout_ms=idle_ms)
    try:
        return [decode(MetricBatch, message.value) for message in consumer]
    finally:
        consumer.close()


def assert_complete_and_ordered(batches: list[MetricBatch], node_id: str, produced: int) -> None:
    """After de-duplication by batch_id: seq 0..produced-1, each once, in arrival order."""
    seen: set[object] = set()
    seqs = []
    for batch in batches:
        if batch.node_id == node_id and batch.batch_id not in seen:
            seen.add(batch.batch_id)
            seqs.append(batch.seq)
    assert seqs == sorted(seqs), "a node's batches arrived out of order"
    assert seqs == list(range(produced)), f"missing: {sorted(set(range(produced)) - set(seqs))}"
