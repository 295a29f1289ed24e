"""The peer stage's Faust agents offline (test_context, memory store): summaries by cohort, then
a drifting node of the cohort becomes one peer AnomalyEvent."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import AsyncMock

from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.models import AnomalyEvent, MetricBatch, PeerSummary, decode, encode
from pipeline.stream.app import Worker, make_worker
from pipeline.stream.peers import PeerStage
from tests.conftest import BASE_TIME


def _worker() -> Worker:
    stream = StreamSettings(store="memory", write_detail=False, peer_round_s=60.0)
    worker = make_worker(KafkaSettings(), TopicSettings(prefix="unit."), stream, InfluxSettings())
    worker.app.finalize()
    worker.app.conf.store = "memory://"
    worker.app.flow_control.resume()
    worker.anomalies_topic.send = AsyncMock()  # type: ignore[method-assign]
    return worker


def _agent(worker: Worker, name: str) -> Any:
    return next(a for a in worker.app.agents.values() if a.name.endswith(name))


def _batch(node: int, minute: int, cpu: float, role: str = "web") -> MetricBatch:
    return MetricBatch(
        node_id=f"{role}-{node:02d}",
        sampled_at=BASE_TIME + timedelta(minutes=minute),
        labels={"role": role},
        metrics={"cpu.usage_user": cpu},
    )


def test_the_detection_agent_sends_round_summaries_keyed_by_cohort_once_a_node_moves_on() -> None:
    # One agent reads fleet.metrics: the peer stage summarises the batches it decoded, so a
    # message is delivered and decoded once; one it dead-letters is summarised by nobody.
    worker = _worker()
    worker.deadletter_topic.send = AsyncMock()  # type: ignore[method-assign]
    metrics = worker.metrics_topic.get_topic_name()
    readers = [a for a in worker.app.agents.values() if a.channel.get_topic_name() == metrics]
    assert [a.name.rsplit(".", 1)[-1] for a in readers] == ["process_metrics"]
    sent: list[tuple[bytes, PeerSummary]] = []

    async def run() -> None:
        async with _agent(worker, "process_metrics").test_context() as agent_:
            stage_topic = _agent(worker, "compare_peers").channel  # the cohort-keyed topic
            assert stage_topic.get_topic_name() == "unit.fleet.peers"
            stage_topic.send = AsyncMock(
                side_effect=lambda key, value: sent.append((key, decode(PeerSummary, value)))
            )
            for minute, cpu in ((0, 10.0), (0, 20.0), (1, 30.0)):
                await agent_.put(encode(_batch(1, minute, cpu)), key=b"web-01")
            unlabelled = MetricBatch(node_id="x", sampled_at=BASE_TIME, metrics={"a.b": 1.0})
            await agent_.put(encode(unlabelled), key=b"x")
            await agent_.put(b"{not json", key=b"y")

    asyncio.run(run())
    assert [(key, s.node_id, s.metrics) for key, s in sent] == [
        (b"role=web", "web-01", {"cpu.usage_user": 15.0})
    ]
    assert worker.meters.dead_letters._value.get() == 1


def test_a_node_drifting_from_its_cohort_is_sent_as_one_peer_event() -> None:
    worker = _worker()
    agent = _agent(worker, "compare_peers")

    async def run() -> None:
        async with agent.test_context() as agent_:
            for minute in range(12):
                for node in range(10):
                    drift = 8.0 * minute if node == 3 else 0.0
                    summary = PeerSummary(
                        node_id=f"web-{node:02d}",
                        cohort="role=web",
                        round_at=BASE_TIME + timedelta(minutes=minute),
                        metrics={"cpu.usage_user": 40.0 + node * 0.5 + drift},
                    )
                    await agent_.put(encode(summary), key=b"role=web")

    asyncio.run(run())
    sent = worker.anomalies_topic.send.await_args_list  # type: ignore[attr-defined]
    events = [decode(AnomalyEvent, call.kwargs["value"]) for call in sent]
    assert [(e.kind, e.node_id, e.metric, e.cohort) for e in events] == [
        ("peer", "web-03", "cpu.usage_user", "role=web")
    ]
    assert sent[0].kwargs["key"] == b"web-03"


def test_peers_compare_node_level_series_not_a_nodes_top_processes_and_units() -> None:
    stage = PeerStage("role", round_s=60.0)
    metrics = {"cpu.usage_user": 10.0, "proc.sshd.open_fds": 12.0, "unit.nginx.cpu_percent": 3.0}
    for minute in (0, 1):
        batch = _batch(1, minute, 10.0).model_copy(update={"metrics": metrics})
        summary = stage.summary(batch)
    assert summary is not None and summary.metrics == {"cpu.usage_user": 10.0}
