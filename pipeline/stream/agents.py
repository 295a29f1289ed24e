"""Thin Faust agents: each reads a topic and hands every message to a pure function."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.models import DeadLetter, MetricBatch, encode
from pipeline.store.points import metric_points
from pipeline.stream.app import Worker
from pipeline.stream.intake import Origin, intake_one

log = logging.getLogger(__name__)


def register(worker: Worker) -> None:
    """Attach the worker's agents and lifecycle hooks to its app."""
    app = worker.app

    @app.on_before_shutdown.connect
    async def close_sink(app: Any, **kwargs: Any) -> None:
        worker.sink.close()

    # concurrency=1: with more, faust-streaming can commit past messages still in flight.
    @app.agent(worker.metrics_topic, concurrency=1)
    async def process_metrics(stream: Any) -> Any:
        worker.sink.start()
        async for event in stream.events():
            origin = Origin(event.message.topic, event.message.partition, event.message.offset)
            message = intake_one(MetricBatch, event.value, origin)
            if isinstance(message, DeadLetter):
                log.warning("dead letter from %s: %s", origin, message.reason)
                await worker.deadletter_topic.send(key=origin.topic.encode(), value=encode(message))
                continue
            worker.sink.add_many(metric_points(message))
            yield message.batch_id
