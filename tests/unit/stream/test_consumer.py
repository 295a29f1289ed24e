"""The worker's consumer: fails when Faust changes the seek it completes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from faust.types import TP
from faust.types.tuples import ConsumerMessage

from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import make_app, make_worker
from pipeline.stream.consumer import FleetConsumer

METRICS = [TP("fleet.metrics", p) for p in range(3)]
CHANGELOG = TP("fleetwatch-worker-node-models-changelog", 0)
INPUT = TP("unit.fleet.metrics", 0)  # the worker's input topic: Faust tracks its acks


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


class Record:
    """What aiokafka hands Faust for one message."""

    def __init__(self, tp: TP, offset: int) -> None:
        self.topic, self.partition, self.offset = tp.topic, tp.partition, offset
        self.timestamp, self.timestamp_type, self.headers = 0, 0, []
        self.key, self.value, self.checksum = b"k", b"v", None
        self.serialized_key_size = self.serialized_value_size = 1


class FetchingPartitions(Partitions):
    """Partitions that also serve fetches, one batch per call."""

    def __init__(self, committed: Mapping[TP, int | None]) -> None:
        super().__init__(committed)
        self.batches: list[dict[TP, list[Record]]] = []
        self.fetch_may_end = asyncio.Event()
        self.fetch_may_end.set()
        self.during_fetch: Callable[[], None] = lambda: None
        self.sought_during_fetch = False
        self.fetching = False

    async def getmany(self, active_partitions: object, timeout: float) -> dict[TP, list[Record]]:
        self.fetching = True
        await self.fetch_may_end.wait()
        self.during_fetch()
        self.fetching = False
        return self.batches.pop(0)

    async def seek_to_committed(self) -> Mapping[TP, int | None]:
        self.sought_during_fetch |= self.fetching
        return await super().seek_to_committed()

    def highwater(self, tp: TP) -> int:
        return 1000


async def _messages(consumer: FleetConsumer) -> list[Any]:
    return [message async for _, message in consumer.getmany(timeout=0.1)]


async def _drain(consumer: FleetConsumer) -> list[tuple[TP, int]]:
    return [(tp, message.offset) async for tp, message in consumer.getmany(timeout=0.1)]


def _fetched(consumer: FleetConsumer) -> list[tuple[TP, int]]:
    return asyncio.run(_drain(consumer))


def _worker_consumer(partitions: Partitions) -> FleetConsumer:
    stream = StreamSettings(store="memory")  # app id fleetwatch-worker: see CHANGELOG
    app = make_worker(KafkaSettings(), TopicSettings(prefix="unit."), stream, InfluxSettings()).app
    consumer = app.consumer
    assert isinstance(consumer, FleetConsumer)
    consumer._thread = partitions  # noqa: SLF001 - the broker side of Faust's consumer
    consumer.flow_active = True  # as after a rebalance (resume_flow would need Faust's loop)
    consumer._set_active_tps(partitions.assignment())  # noqa: SLF001 - as after a rebalance
    return consumer


def test_input_records_fetched_before_a_rebalance_are_not_handed_out() -> None:
    # A worker read partition 1 up to 150 before a rebalance; Faust stamps the batch with the
    # generation current when the fetch returns. Handed out, a fresh model would learn 150 on and
    # count the seek's re-read of 7-149 as learned already.
    partitions = FetchingPartitions({METRICS[0]: 40, METRICS[1]: None, CHANGELOG: None})
    consumer = _worker_consumer(partitions)
    stale = [Record(METRICS[1], o) for o in (150, 151)]
    partitions.batches = [{METRICS[1]: stale, CHANGELOG: [Record(CHANGELOG, 3)]}]

    def rebalance() -> None:
        consumer.app.consumer_generation_id = 2

    partitions.during_fetch = rebalance
    assert _fetched(consumer) == [(CHANGELOG, 3)]  # table recovery positions changelogs itself
    partitions.during_fetch = lambda: None
    asyncio.run(consumer.perform_seek())  # the rebalance's seek reads partition 1 from 7
    partitions.batches = [{METRICS[1]: [Record(METRICS[1], 7)]}]
    assert _fetched(consumer) == [(METRICS[1], 7)]


def test_a_seek_waits_for_the_fetch_under_way() -> None:
    # The consumer thread runs two calls at once: a seek beside a fetch could let the fetch
    # return records from either side of it, and nothing would tell which.
    partitions = FetchingPartitions({METRICS[0]: 40})
    consumer = _worker_consumer(partitions)
    partitions.batches = [{METRICS[0]: [Record(METRICS[0], 40)]}]
    partitions.fetch_may_end.clear()

    async def fetch_while_seeking() -> list[Any]:
        fetch = asyncio.ensure_future(_messages(consumer))
        await asyncio.sleep(0.01)  # the fetch is under way
        seek = asyncio.ensure_future(consumer.perform_seek())
        await asyncio.sleep(0.01)
        partitions.fetch_may_end.set()
        handed_out = await fetch
        await seek
        return handed_out

    handed_out = asyncio.run(fetch_while_seeking())
    assert not partitions.sought_during_fetch
    # Handed out before the seek began: the worker skips it, and the seek reads it again.
    assert [m.offset for m in handed_out] == [40]
    assert consumer.overtaken(handed_out[0])


def _message(tp: TP, offset: int, generation: int) -> ConsumerMessage:
    return ConsumerMessage(
        tp.topic, tp.partition, offset, 0.0, 0, [], b"k", b"v", None, 1, 1, tp,
        generation_id=generation,
    )  # fmt: skip


def test_acks_of_messages_skipped_during_a_rebalance_are_not_recorded() -> None:
    # Faust acks what its streams skip; recorded after the revocation reset the partition's
    # acknowledgements, such an ack let a commit pass the message before its re-read was saved.
    consumer = _worker_consumer(FetchingPartitions({INPUT: 10}))
    app = consumer.app
    app.topics._acking_topics.add(INPUT.topic)  # noqa: SLF001 - as the running agent's conductor
    app.consumer_generation_id = 2
    app.flow_control.resume()
    assert not consumer.ack(_message(INPUT, 11, generation=1))  # fetched before the rebalance
    app.flow_control.suspend()
    assert not consumer.ack(_message(INPUT, 12, generation=2))  # met while the flow is stopped
    app.flow_control.resume()
    assert consumer.ack(_message(INPUT, 13, generation=2))
    assert consumer._acked[INPUT] == [13]  # noqa: SLF001 - Faust's acknowledgements


def test_messages_handed_out_before_a_seek_of_their_partition_are_overtaken() -> None:
    # Faust's recovery resumes the flow before it seeks: what was handed out in between sits in
    # the agents' buffers, fetched from where the fetcher was, not from where the seek puts it.
    partitions = FetchingPartitions({METRICS[0]: 40, METRICS[1]: None})
    consumer = _worker_consumer(partitions)
    before = [Record(METRICS[1], 150), Record(METRICS[0], 60)]
    partitions.batches = [{METRICS[1]: before[:1], METRICS[0]: before[1:]}]

    async def fetch_seek_fetch() -> tuple[list[Any], list[Any]]:
        handed_out = [message async for _, message in consumer.getmany(timeout=0.1)]
        await consumer.perform_seek()
        partitions.batches = [{METRICS[1]: [Record(METRICS[1], 7)]}]
        return handed_out, [message async for _, message in consumer.getmany(timeout=0.1)]

    handed_out, after = asyncio.run(fetch_seek_fetch())
    assert [m.offset for m in handed_out] == [150, 60]
    assert all(consumer.overtaken(message) for message in handed_out)
    assert [m.offset for m in after] == [7]
    assert not consumer.overtaken(after[0])


class Stopped:
    """Stands for Faust's fetcher service: its drain loop runs until this is set."""

    def __init__(self) -> None:
        self._stopped = asyncio.Event()


async def _delivered_across_a_seek() -> list[int]:
    partitions = FetchingPartitions({METRICS[0]: 40})
    consumer = _worker_consumer(partitions)  # built in the loop: Faust's events bind to it
    fetcher = Stopped()
    partitions.batches = [
        {METRICS[0]: [Record(METRICS[0], o) for o in (45, 46)]},  # from where the fetcher was
        {METRICS[0]: [Record(METRICS[0], o) for o in range(40, 47)]},  # the seek's re-read
    ]
    delivered: list[int] = []

    async def deliver(message: Any) -> None:
        if len(partitions.batches) == 1:  # the seek runs while the first delivery waits
            await consumer.perform_seek()
        delivered.append(message.offset)
        if not partitions.batches:
            fetcher._stopped.set()  # noqa: SLF001 - ends Faust's drain loop

    consumer.callback = deliver
    await asyncio.wait_for(consumer._drain_messages(fetcher), 10)  # noqa: SLF001 - Faust's own
    return delivered


def test_a_message_delivered_across_a_seek_leaves_the_partition_read_from_the_seek() -> None:
    # Faust's drain loop records a message's offset as read once its delivery returns, and
    # drops every later message below it. Recovery resumes the flow before it seeks, so a
    # delivery begun before the seek (waiting for room in a full agent buffer) can return
    # after it: recorded then, the seek's re-read of 40-44 was dropped unprocessed and
    # unacknowledged, and the partition committed nothing more.
    # 45 is handed out before the seek (overtaken: the worker skips it), then read again.
    assert asyncio.run(_delivered_across_a_seek()) == [45, *range(40, 47)]
