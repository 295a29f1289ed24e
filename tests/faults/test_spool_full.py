"""An agent whose spool fills up: loss bounded by the spool, counted, reported; it keeps running.

Two ways to fill it: the configured bound (``spool_max_bytes``) while Kafka is dead, and a disk
that refuses every write. The second uses RLIMIT_FSIZE on the agent process (every spool file
write fails with EFBIG, as ENOSPC would), which needs no root and no special filesystem.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pipeline import topics
from pipeline.config import TopicSettings
from pipeline.models import MetricBatch
from tests.faults.conftest import PrivateStack
from tests.integration.agent_support import read_batches, spool_state, start_agent, stop_agent
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(360)]
SPOOL_MAX_BYTES = 64 * 1024  # the smallest bound the settings accept


def _dropped(spool: Path) -> int:
    state = spool / "state.json"
    return int(json.loads(state.read_text()).get("dropped", 0)) if state.exists() else 0


def _spooled_bytes(spool: Path) -> int:
    return sum(p.stat().st_size - 2 for p in spool.glob("*.msg"))  # minus the key-length header


def _own(batches: list[MetricBatch], node_id: str) -> list[MetricBatch]:
    seen: set[object] = set()
    mine = []
    for batch in batches:
        if batch.node_id == node_id and batch.batch_id not in seen:
            seen.add(batch.batch_id)
            mine.append(batch)
    return mine


def test_spool_bound_drops_oldest_counts_and_reports_and_agent_runs_on(
    private_stack: PrivateStack, fault_topics: TopicSettings, tmp_path: Path
) -> None:
    kafka, node_id, spool = private_stack.kafka, f"sf-{uuid.uuid4().hex[:6]}", tmp_path / "s"
    os.environ["FLEETWATCH_AGENT_SPOOL_MAX_BYTES"] = str(SPOOL_MAX_BYTES)
    try:
        agent = start_agent(kafka, fault_topics.prefix, node_id, spool, tmp_path / "agent.log")
    finally:
        del os.environ["FLEETWATCH_AGENT_SPOOL_MAX_BYTES"]
    try:
        wait_for(lambda: spool_state(spool) == (0, 3) or spool_state(spool)[1] > 3, 60, "acks")
        private_stack.kill("kafka")
        peak = 0
        deadline = time.monotonic() + 150
        while _dropped(spool) < 5:  # well past the bound, not just at it
            assert agent.poll() is None, "the agent died with a full spool"
            assert time.monotonic() < deadline, "the spool never filled"
            peak = max(peak, _spooled_bytes(spool))
            time.sleep(0.5)
        private_stack.start("kafka")
        wait_for(lambda: spool_state(spool)[0] == 0, 120, "the spool delivered after Kafka is back")
        # A batch reports the drops counted before it was sampled: wait for two more rounds.
        delivered_by = spool_state(spool)[1]
        wait_for(
            lambda: spool_state(spool)[0] == 0 and spool_state(spool)[1] >= delivered_by + 2,
            60,
            "rounds after the drops ended",
        )
        assert agent.poll() is None, "the agent died"
    finally:
        assert stop_agent(agent) == 0
    dropped, (_, produced) = _dropped(spool), spool_state(spool)
    assert peak <= SPOOL_MAX_BYTES, f"spool held {peak} bytes, bound {SPOOL_MAX_BYTES}"

    mine = _own(read_batches(kafka, topics.METRICS.name(fault_topics.prefix)), node_id)
    seqs = [b.seq for b in mine]
    assert seqs == sorted(seqs), "order broken around the drops"
    missing = sorted(set(range(produced)) - set(seqs))
    assert len(missing) == dropped, "every lost batch is counted, and only those"
    assert missing == list(range(missing[0], missing[0] + dropped)), "the oldest spooled go first"
    assert missing[0] >= 3, "batches acknowledged before the outage are never lost"
    reports = [b.metrics.get("agent.spool_dropped", 0.0) for b in mine]
    assert reports[-1] == dropped, "the agent reports its drops in its own metrics"
    assert reports == sorted(reports)


def _limit_file_size() -> None:  # runs in the agent's child process before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))


def test_unwritable_spool_disk_keeps_the_agent_running_and_delivering(
    private_stack: PrivateStack, fault_topics: TopicSettings, tmp_path: Path
) -> None:
    kafka, node_id, spool = private_stack.kafka, f"sd-{uuid.uuid4().hex[:6]}", tmp_path / "s"
    command = [sys.executable, "-m", "pipeline", "agent", "--interval-s", "1"]
    command += ["--node-id", node_id, "--spool-dir", str(spool)]
    command += ["--topic-prefix", fault_topics.prefix]
    env = os.environ | {
        "FLEETWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "FLEETWATCH_AGENT_SEND_TIMEOUT_S": "3",
    }
    # Output to a pipe: a log file would hit the file-size limit too.
    agent = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=_limit_file_size,  # noqa: PLW1509 - no threads in the parent at this point
    )
    topic = topics.METRICS.name(fault_topics.prefix)
    try:
        time.sleep(8)
        assert agent.poll() is None, "the agent died on an unwritable spool"
    finally:
        assert stop_agent(agent) == 0
    output = agent.stdout.read().decode() if agent.stdout else ""
    assert "spool" in output and "memory" in output, f"no warning about the disk: {output}"
    mine = _own(read_batches(kafka, topic), node_id)
    assert len(mine) >= 5
    assert [b.seq for b in mine] == list(range(len(mine))), "lost or reordered batches"
    assert mine[-1].metrics["agent.spool_unpersisted"] >= len(mine) - 1
    assert mine[-1].metrics["agent.spool_dropped"] == 0
