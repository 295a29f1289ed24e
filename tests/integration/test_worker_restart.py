"""A worker SIGKILLed mid-stream and restarted resumes its models from the saved state."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from subprocess import Popen

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.models import RemediationRequest, decode
from pipeline.stream.process import BatchProcessor
from tests.integration.test_worker import (
    differing_scores,
    host_scores,
    publish,
    read_topic,
    reference_scores,
    wait_for,
)
from tests.unit.stream.workload import batch_at

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]
NODES = [f"kill-{i}" for i in range(6)]
SAVE_EVERY_S = 3


def _batches(start: int, stop: int) -> list:
    """Every node's batches ``start``..``stop``; node 0 has a fault at 340-341."""
    return [
        batch_at(node, seq, fault=97.0 if node == NODES[0] and seq in (340, 341) else None)
        for seq in range(start, stop)
        for node in NODES
    ]


def _reference_request_ids(batches: list) -> set[str]:
    processor = BatchProcessor(StreamSettings(write_detail=False, forward_remediation=True))
    models: dict[str, object] = {}
    ids = set()
    for batch in batches:
        model = models.setdefault(batch.node_id, processor.new_model())
        ids |= {r.request_id for r in processor.process_one(model, batch).requests}  # type: ignore[arg-type]
    return ids


def test_sigkilled_worker_resumes_scores_and_never_mints_new_request_ids(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETWATCH_STREAM_SNAPSHOT_INTERVAL_S", str(SAVE_EVERY_S))
    monkeypatch.setenv("FLEETWATCH_STREAM_FORWARD_REMEDIATION", "true")
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    worker = start_worker("w0")
    first, second, rest = _batches(0, 300), _batches(300, 330), _batches(330, 360)
    publish(kafka, topic_settings, first)
    wait_for(lambda: len(host_scores(influx, "^kill-")) >= len(first), 120, "the first part")
    time.sleep(SAVE_EVERY_S + 2)  # every node saved at least once
    publish(kafka, topic_settings, second)
    seen = len(first) + len(second)
    wait_for(lambda: len(host_scores(influx, "^kill-")) >= seen, 60, "the second part")
    worker.send_signal(signal.SIGKILL)  # learned, but not saved yet: must be re-read
    worker.wait(timeout=30)
    publish(kafka, topic_settings, rest)
    restarted = start_worker("w0")
    everything = first + second + rest
    wait_for(lambda: len(host_scores(influx, "^kill-")) >= len(everything), 180, "every batch")
    assert restarted.poll() is None, "restarted worker died"

    expected = reference_scores(everything)
    actual = host_scores(influx, "^kill-")
    assert set(actual) == set(expected)
    differing = differing_scores(expected, actual)
    assert not differing, (
        f"{len(differing)} scores differ from an uninterrupted run: {differing[:3]}"
    )

    want_ids = _reference_request_ids(everything)
    assert want_ids, "the fault should have asked for remediation"
    sent = read_topic(kafka, topics.REMEDIATION.name(topic_settings.prefix))
    requests = [decode(RemediationRequest, raw) for raw in sent]
    assert {r.request_id for r in requests} == want_ids
    by_id: dict[str, RemediationRequest] = {}
    for request in requests:  # a replayed request is the same request, byte for byte
        assert by_id.setdefault(request.request_id, request) == request
