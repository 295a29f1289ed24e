"""The Faust agent offline: agent.test_context() with a memory store, no broker."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import AsyncMock

from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.models import DeadLetter, decode, encode
from pipeline.stream.agents import Outcome, handle_chunk
from pipeline.stream.app import make_worker
from tests.unit.stream.workload import batch_at


def _worker():  # type: ignore[no-untyped-def]
    stream = StreamSettings(store="memory", write_detail=False, snapshot_interval_s=3600)
    worker = make_worker(KafkaSettings(), TopicSettings(prefix="unit."), stream, InfluxSettings())
    worker.app.finalize()
    worker.app.conf.store = "memory://"
    worker.app.flow_control.resume()
    for topic in (worker.deadletter_topic, worker.anomalies_topic):
        topic.send = AsyncMock()  # type: ignore[method-assign]
    return worker


async def _events(agent_: Any, offsets: tuple[int, ...]) -> list[Any]:
    """Node n1's batches at ``offsets`` as events of the agent's stream."""
    channel = agent_.stream().channel
    return [
        await channel.decode(agent_.to_message(b"n1", encode(batch_at("n1", i)), offset=i))
        for i in offsets
    ]


def test_agent_dead_letters_bad_messages_and_keeps_processing() -> None:
    worker = _worker()
    agent = next(a for a in worker.app.agents.values() if a.name.endswith("process_metrics"))

    async def run() -> list[Outcome]:
        async with agent.test_context() as agent_:
            outcomes = []
            for raw in (b"{not json", encode(batch_at("n1", 0)), b'{"node_id": "n1"}'):
                event = await agent_.put(raw, key=b"n1")
                outcomes.extend(agent_.results[event.message.offset])
            return outcomes

    outcomes = asyncio.run(run())
    assert outcomes == [Outcome.DEAD_LETTER, Outcome.PROCESSED, Outcome.DEAD_LETTER]
    sent = worker.deadletter_topic.send.await_args_list  # type: ignore[attr-defined]
    letters = [decode(DeadLetter, call.kwargs["value"]) for call in sent]
    assert [letter.raw for letter in letters] == [b"{not json", b'{"node_id": "n1"}']
    assert all(letter.reason.startswith("invalid MetricBatch") for letter in letters)
    assert worker.meters.batches._value.get() == 1
    assert worker.meters.dead_letters._value.get() == 2
    assert set(worker.checkpoints.live) == {"n1"}


def test_events_fetched_before_a_rebalance_are_skipped_unacknowledged() -> None:
    worker = _worker()
    agent = next(a for a in worker.app.agents.values() if a.name.endswith("process_metrics"))

    async def run() -> list[Outcome]:
        async with agent.test_context() as agent_:
            stale, fresh = await _events(agent_, (0, 1))
            stale.message.generation_id = 4  # fetched before the rebalance
            worker.app.consumer_generation_id = fresh.message.generation_id = 5
            return await handle_chunk(worker, [stale, fresh])

    assert asyncio.run(run()) == [Outcome.STALE, Outcome.PROCESSED]
    assert worker.meters.batches._value.get() == 1
    pending = worker.checkpoints.live["n1"].pending
    assert [event.message.offset for event in pending] == [1]


def test_events_handed_out_before_their_partitions_seek_are_skipped_unacknowledged() -> None:
    # Faust's recovery resumes the flow before it seeks: events handed out in between come from
    # where the fetcher was. Learning them would have a fresh model start mid-partition and
    # count the seek's re-read of what came before as learned already (issue 17).
    worker = _worker()
    agent = next(a for a in worker.app.agents.values() if a.name.endswith("process_metrics"))
    consumer = worker.app.consumer

    async def run() -> list[Outcome]:
        async with agent.test_context() as agent_:
            ahead, sought = await _events(agent_, (20, 0))
            consumer._overtaken.add(ahead.message)  # noqa: SLF001 - as a seek after handing it out
            return await handle_chunk(worker, [ahead, sought])

    assert asyncio.run(run()) == [Outcome.STALE, Outcome.PROCESSED]
    pending = worker.checkpoints.live["n1"].pending
    assert [event.message.offset for event in pending] == [0]


def test_events_met_while_the_flow_is_stopped_are_skipped_unacknowledged() -> None:
    worker = _worker()
    agent = next(a for a in worker.app.agents.values() if a.name.endswith("process_metrics"))

    async def run() -> tuple[list[Outcome], list[Outcome]]:
        async with agent.test_context() as agent_:
            events = await _events(agent_, (0, 1))
            worker.app.flow_control.suspend()  # revoked: not sought back to the commit yet
            during = await handle_chunk(worker, events[:1])
            worker.app.flow_control.resume()
            return during, await handle_chunk(worker, events[1:])

    assert asyncio.run(run()) == ([Outcome.STALE], [Outcome.PROCESSED])
    assert worker.meters.batches._value.get() == 1
    pending = worker.checkpoints.live["n1"].pending
    assert [event.message.offset for event in pending] == [1]


def test_events_read_after_the_seek_are_processed_before_faust_ends_the_rebalance() -> None:
    # Faust sets app.rebalancing back only after the fetcher restarts; events read meanwhile
    # come after the seek and are never read again, so they must not be skipped.
    worker = _worker()
    agent = next(a for a in worker.app.agents.values() if a.name.endswith("process_metrics"))

    async def run() -> list[Outcome]:
        async with agent.test_context() as agent_:
            channel = agent_.stream().channel
            event = await channel.decode(agent_.to_message(b"n1", encode(batch_at("n1", 0))))
            worker.app.rebalancing = True
            return await handle_chunk(worker, [event])

    assert asyncio.run(run()) == [Outcome.PROCESSED]


def test_a_resent_batch_is_learned_once_and_acknowledged_with_the_next_save() -> None:
    worker = _worker()
    agent = next(a for a in worker.app.agents.values() if a.name.endswith("process_metrics"))
    original, later = encode(batch_at("n1", 0)), encode(batch_at("n1", 1))

    async def run() -> list[Outcome]:
        async with agent.test_context() as agent_:
            outcomes = []
            for raw in (original, original, later):
                event = await agent_.put(raw, key=b"n1")
                outcomes.extend(agent_.results[event.message.offset])
            return outcomes

    assert asyncio.run(run()) == [Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.PROCESSED]
    assert worker.meters.batches._value.get() == 2
    assert worker.meters.duplicates._value.get() == 1
    model = worker.checkpoints.live["n1"].model
    assert model.detector.step == 2  # learned twice, not three times
    assert len(worker.checkpoints.live["n1"].pending) == 3  # all three acked at the next save
