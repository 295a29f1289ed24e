"""Thin Faust agents and hooks: each hands messages to the pure processing and sends the results."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pipeline.models import DeadLetter, MetricBatch, encode, utc_now
from pipeline.stream.app import Worker, consumer_lag
from pipeline.stream.checkpoint import Checkpoints
from pipeline.stream.intake import Origin, intake_one, processing_failure
from pipeline.stream.meters import CONTENT_TYPE
from pipeline.stream.process import Detection
from pipeline.stream.rebalance import RebalanceSensor

log = logging.getLogger(__name__)
TICK_S = 1.0
SINK_POLL_S = 0.05


def register(worker: Worker) -> None:
    """Attach the worker's agents, timer, web view and lifecycle hooks to its app."""
    app, checkpoints, meters = worker.app, worker.checkpoints, worker.meters
    meters.watch(
        worker.sink.counters,
        lambda: worker.sink.buffered,
        lambda: len(checkpoints.live),
        lambda: checkpoints.saved_bytes,
        lambda: consumer_lag(app, worker.metrics_topic.get_topic_name()),
    )
    app.sensors.add(RebalanceSensor(checkpoints))
    app.before_stop = lambda: _stop(worker)

    @app.on_partitions_revoked.connect
    async def forget_revoked(app: Any, revoked: Any, **kwargs: Any) -> None:
        checkpoints.forget({tp.partition for tp in revoked})

    # concurrency=1: with more, faust-streaming can commit past messages still in flight.
    # Chunks: one Faust iteration (and one per-yield log call) per chunk, not per message.
    @app.agent(worker.metrics_topic, concurrency=1)
    async def process_metrics(stream: Any) -> Any:
        worker.sink.start()
        settings = worker.settings
        async for events in stream.noack_take(settings.chunk_max, within=settings.chunk_wait_s):
            yield await handle_chunk(worker, events)

    @app.timer(interval=TICK_S)
    async def tick() -> None:
        if checkpoints.frozen and not app.rebalancing and not worker.stopping:
            checkpoints.frozen = False  # in case a rebalance ended without telling the sensor
        await _close_quiet_windows(worker)
        meters.saves.inc(checkpoints.save_due())

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(meters.render(), headers={"Content-Type": CONTENT_TYPE})


async def handle_chunk(worker: Worker, events: list[Any]) -> list[str]:
    """Process a chunk of ``fleet.metrics`` in order; returns what became of each (for tests).

    A chunk is filled before it is processed, so a rebalance may come between: events fetched
    in an earlier consumer generation are skipped unacknowledged, as Faust skips them itself.
    Their partition's owner now (maybe this worker again) re-reads them from the last commit.
    """
    outcomes = []
    generation = worker.app.consumer_generation_id
    for event in events:
        fetched_in = event.message.generation_id
        if fetched_in is not None and fetched_in != generation:
            outcomes.append("stale")
            continue
        outcomes.append(await handle_event(worker, event))
    return outcomes


async def handle_event(worker: Worker, event: Any) -> str:
    """Process one message of ``fleet.metrics``; returns what became of it (for tests)."""
    message = event.message
    origin = Origin(message.topic, message.partition, message.offset)
    batch = intake_one(MetricBatch, event.value, origin)
    if isinstance(batch, DeadLetter):
        await _dead_letter(worker, batch, origin, event)
        return "dead_letter"
    checkpoints = worker.checkpoints
    checkpoints.busy = batch.node_id
    try:
        model = checkpoints.model_for(batch.node_id, event)
        if model.has_applied(origin.partition, origin.offset):
            worker.meters.replayed.inc()
            event.ack()
            return "replayed"
        if model.has_learned_batch(batch.batch_id):
            # Acknowledged with the node's next save, like the original it repeats.
            model.mark_applied(origin.partition, origin.offset)
            worker.meters.duplicates.inc()
            checkpoints.applied(batch.node_id, event, worker.sink.added)
            return "duplicate"
        detection = worker.processor.process_one(model, batch)
        model.mark_applied(origin.partition, origin.offset, batch.batch_id)
        await emit(worker, detection)
    except Exception as exc:  # noqa: BLE001 - a message that breaks a model must not stop the stream
        await _dead_letter(worker, processing_failure(exc, event.value, origin), origin, event)
        return "dead_letter"
    finally:
        checkpoints.busy = None
    worker.meters.batches.inc()
    worker.meters.points.inc(len(batch.metrics))
    checkpoints.applied(batch.node_id, event, worker.sink.added)
    if checkpoints.save_one_if_due(batch.node_id):
        worker.meters.saves.inc()
    return "processed"


async def emit(worker: Worker, detection: Detection) -> None:
    """Send events and requests to their topics and queue points for InfluxDB."""
    for anomaly in detection.events:
        key = anomaly.node_id.encode()
        await worker.anomalies_topic.send(key=key, value=encode(anomaly))
    for request in detection.requests:
        key = request.node_id.encode()
        await worker.remediation_topic.send(key=key, value=encode(request))
    if detection.points:
        await _wait_for_sink(worker)
        worker.sink.add_many(detection.points)
    worker.meters.anomalies.inc(len(detection.events))
    worker.meters.requests.inc(len(detection.requests))


async def _wait_for_sink(worker: Worker) -> None:
    """Hold the stream while InfluxDB is up but slower than the worker.

    Kafka keeps the backlog (nothing is acknowledged meanwhile); dropping points from a full
    buffer would lose them for good.
    """
    if not worker.sink.behind:
        return
    started = time.monotonic()
    while worker.sink.behind and not worker.stopping:
        await asyncio.sleep(SINK_POLL_S)
    worker.meters.sink_wait.inc(time.monotonic() - started)


async def _dead_letter(worker: Worker, letter: DeadLetter, origin: Origin, event: Any) -> None:
    log.warning("dead letter from %s: %s", origin, letter.reason)
    try:
        await worker.deadletter_topic.send(key=origin.topic.encode(), value=encode(letter))
    except Exception as exc:  # noqa: BLE001 - losing a letter beats stopping the stream
        log.error("dead letter from %s could not be sent, dropped: %r", origin, exc)
    worker.meters.dead_letters.inc()
    event.ack()


async def _close_quiet_windows(worker: Worker) -> None:
    """Windows of nodes quiet for a whole window close by the clock, not by a next batch."""
    checkpoints: Checkpoints = worker.checkpoints
    now = utc_now()
    closed = []
    for node_id, model in checkpoints.quiet(worker.settings.window_s):
        events = worker.processor.expire_one(model, now)
        if events:
            checkpoints.touched(node_id)
            closed.append(events)
    for events in closed:
        detection = Detection(host_score=None)  # no batch behind these events
        worker.processor.add_events(detection, events)
        await emit(worker, detection)


def _stop(worker: Worker) -> None:
    """Save every node's models before the consumer stops, then write what the sink holds.

    Saving stops for good here: messages still processed while Faust winds down have nowhere
    to write their points, so they are left unacknowledged for the next owner to re-read.
    """
    worker.meters.saves.inc(worker.checkpoints.save_due(force=True))
    worker.checkpoints.frozen = True
    worker.stopping = True
    worker.sink.close()
