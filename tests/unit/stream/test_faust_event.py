"""The Faust adapter: fails when Faust changes how the current event is kept or used."""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from pipeline.stream.faust_event import current_event


class Event:
    """Stands for a Faust event: anything weak-referenceable."""


def test_the_event_is_current_inside_the_block_and_the_previous_one_after() -> None:
    outer, inner = Event(), Event()
    with current_event(outer):
        assert faust.current_event() is outer
        with current_event(inner):
            assert faust.current_event() is inner
        assert faust.current_event() is outer
    assert faust.current_event() is None


def test_a_table_routes_writes_inside_the_block_to_the_event_partition() -> None:
    app = faust.App("adapter-test", store="memory://", topic_partitions=4)
    table = app.Table("models", default=None, partitions=4)
    agent = app.agent(app.topic("fleet", partitions=4))(_drain)

    async def partitions() -> list[Any]:
        async with agent.test_context() as agent_:
            events = [await agent_.put(b"v", key=b"k", partition=p) for p in (3, 1)]
        routed = []
        for event in events:
            with current_event(event):
                routed.append(table.partition_for_key(b"node-1"))
        return routed

    assert asyncio.run(partitions()) == [3, 1]


async def _drain(stream: Any) -> Any:
    async for value in stream:
        yield value
