"""What one stream worker is made of: its Faust app, sink, models, meters and topics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import faust

from pipeline.config import StreamSettings
from pipeline.models import MetricBatch
from pipeline.store.influx import InfluxSink
from pipeline.stream.acks import AckOrder
from pipeline.stream.checkpoint import Checkpoints
from pipeline.stream.meters import Meters
from pipeline.stream.process import BatchProcessor


class FleetApp(faust.App):
    """A Faust app that runs ``before_stop`` first thing when stopping (to save node models)."""

    before_stop: Callable[[], None] | None = None

    async def on_stop(self) -> None:
        """Run ``before_stop`` while the producer and tables still work, then stop as usual."""
        if self.before_stop is not None:
            self.before_stop()
        await super().on_stop()


@dataclass
class Worker:
    """Everything the agents of one worker share (built by ``pipeline.stream.app``)."""

    app: FleetApp
    settings: StreamSettings
    sink: InfluxSink
    processor: BatchProcessor
    checkpoints: Checkpoints
    meters: Meters
    metrics_topic: faust.TopicT
    anomalies_topic: faust.TopicT
    deadletter_topic: faust.TopicT
    acks: AckOrder
    # Other stages that read each batch the detection agent decoded (the peer stage's round
    # summaries): one Faust delivery and one decode per message instead of one per agent.
    batch_observers: list[Callable[[MetricBatch], Awaitable[None]]] = field(default_factory=list)

    def lag(self) -> int:
        """Messages of the input topic not read yet (see ``consumer_lag``)."""
        return consumer_lag(self.app, self.metrics_topic.get_topic_name())

    def assigned_partitions(self) -> int:
        """Partitions of the input topic assigned to this worker (0 before the consumer starts)."""
        topic = self.metrics_topic.get_topic_name()
        try:
            return sum(1 for tp in self.app.consumer.assignment() if tp.topic == topic)
        except Exception:  # noqa: BLE001 - the consumer may not exist or not be started yet
            return 0


def consumer_lag(app: faust.App, topic: str) -> int:
    """Messages of ``topic`` in the assigned partitions not read yet (0 before the consumer starts).

    Only the input topic counts: the worker also holds its changelog partitions, whose
    "lag" is state it never needs to read while it owns them.
    """
    try:
        assignment = app.consumer.assignment()
    except Exception:  # noqa: BLE001 - the consumer may not exist or not be started yet
        return 0
    read: Mapping[Any, int] = app.monitor.tp_read_offsets or {}
    lag = 0
    for tp in assignment:
        if tp.topic != topic:
            continue
        try:
            lag += max(app.consumer.highwater(tp) - read.get(tp, -1) - 1, 0)
        except Exception:  # noqa: BLE001, S112 - no highwater known for this partition yet
            continue
    return lag
