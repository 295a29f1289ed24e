"""The worker's consumer: fails when Faust changes the seek it completes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from faust.types import TP

from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import make_app, make_worker
from pipeline.stream.consumer import FleetConsumer

METRICS = [TP("fleet.metrics", p) for p in range(3)]
CHANGELOG = TP("fleetwatch-worker-node-models-changelog", 0)


class Partitions:
    """Stands for Faust's consumer thread over a broker: committed and earliest offsets."""

    def __init__(self, committed: Mapping[TP, int | None]) -> None:
        self.committed = dict(committed)
        self.positions: dict[TP, int] = {}

    async def seek_to_committed(self) -> Mapping[TP, int | None]:
        # aiokafka seeks only offsets above 0 and reports the rest as they are.
        self.positions |= {tp: o for tp, o in self.committed.items() if o and o > 0}
        return self.committed

    def assignment(self) -> set[TP]:
        return set(self.committed)

    async def earliest_offsets(self, *partitions: TP) -> Mapping[TP, int]:
        return {tp: 7 for tp in partitions}

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        self.positions |= partitions


def test_the_worker_app_consumes_with_the_fleet_consumer() -> None:
    app = make_app(KafkaSettings(), TopicSettings(prefix="unit."), StreamSettings(store="memory"))
    assert app.transport.Consumer is FleetConsumer


def test_partitions_never_committed_are_sought_to_their_earliest_offset() -> None:
    stream = StreamSettings(store="memory")  # app id fleetwatch-worker: see CHANGELOG
    app = make_worker(KafkaSettings(), TopicSettings(prefix="unit."), stream, InfluxSettings()).app
    consumer = app.consumer  # built as the worker builds it; nothing connects here
    partitions = Partitions({METRICS[0]: 40, METRICS[1]: None, METRICS[2]: 0, CHANGELOG: None})
    consumer._thread = partitions  # noqa: SLF001 - the broker side of Faust's consumer
    asyncio.run(consumer.perform_seek())
    # The committed partition where it was committed, the others at their start, and the
    # changelog left to table recovery. Faust keeps the committed offsets it read.
    assert partitions.positions == {METRICS[0]: 40, METRICS[1]: 7, METRICS[2]: 7}
    assert consumer._committed_offset == {METRICS[0]: 40, METRICS[2]: None}  # noqa: SLF001
