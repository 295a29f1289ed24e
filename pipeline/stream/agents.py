"""Thin Faust agents and hooks: each hands messages to the pure processing and sends the results."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Any

from influxdb_client.client.write.point import Point

from pipeline.bus import Origin, dead_letter, decode_or_dead_letter
from pipeline.errors import SinkBackpressure
from pipeline.models import DeadLetter, MetricBatch, encode, utc_now
from pipeline.stream.consumer import FleetConsumer, fetched_before_rebalance, overtaken
from pipeline.stream.lean_input import LeanEvent, LeanInput
from pipeline.stream.meters import CONTENT_TYPE
from pipeline.stream.process import Detection
from pipeline.stream.rebalance import RebalanceSensor
from pipeline.stream.worker import Worker

log = logging.getLogger(__name__)
TICK_S = 1.0


class Outcome(enum.StrEnum):
    """What became of one message of ``fleet.metrics``."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"  # same batch_id learned lately: acknowledged, not learned again
    REPLAYED = "replayed"  # re-read after a restart, already in the saved models
    DEAD_LETTER = "dead_letter"
    STALE = "stale"  # fetched before a rebalance: left for the partition's owner now


def register(worker: Worker) -> None:
    """Attach the worker's agents, timer, web view and lifecycle hooks to its app."""
    app, checkpoints, meters = worker.app, worker.checkpoints, worker.meters
    meters.watch(
        worker.sink.counters,
        lambda: worker.sink.buffered,
        lambda: len(checkpoints.live),
        lambda: checkpoints.saved_bytes,
        worker.lag,
        worker.assigned_partitions,
        lambda: worker.acks.waiting,
    )
    app.sensors.add(RebalanceSensor(checkpoints, meters))
    app.before_stop = lambda: _stop(worker)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode types receivers narrowly
    async def forget_revoked(app: Any, revoked: Any, **kwargs: Any) -> None:
        checkpoints.forget({tp.partition for tp in revoked})
        # Every assigned partition is sought back to its last commit after a rebalance, so
        # whatever waits for an earlier message is read again: nothing of it is acknowledged.
        worker.acks.forget()

    if worker.settings.input == "lean":
        _read_lean(worker)
    else:
        _read_with_agent(worker)

    @app.timer(interval=TICK_S)  # type: ignore[untyped-decorator]  # Faust's timer is untyped
    async def tick() -> None:
        if app.flow_control.is_active():
            checkpoints.thaw()  # in case a rebalance ended without telling the sensor
        await _close_quiet_windows(worker)
        meters.saves.inc(checkpoints.save_due())

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(meters.render(), headers={"Content-Type": CONTENT_TYPE})


def _read_with_agent(worker: Worker) -> None:
    """``fleet.metrics`` through a Faust agent, chunk by chunk (``input = "faust"``)."""

    # concurrency=1: with more, faust-streaming can commit past messages still in flight.
    # Chunks: one Faust iteration (and one per-yield log call) per chunk, not per message.
    @worker.app.agent(worker.metrics_topic, concurrency=1)
    async def process_metrics(stream: Any) -> Any:
        worker.sink.start()
        settings = worker.settings
        async for events in stream.noack_take(settings.chunk_max, within=settings.chunk_wait_s):
            yield await handle_chunk(worker, events)


def _read_lean(worker: Worker) -> None:
    """``fleet.metrics`` from Faust's consumer straight to a task (``input = "lean"``).

    The topic stays Faust's (subscribed, its acknowledged offsets committed, rebalanced with
    the group); only the per-message delivery (event, channel queue, stream) is left out.
    """
    app, settings = worker.app, worker.settings
    consumer = app.consumer
    if not isinstance(consumer, FleetConsumer):
        raise TypeError(f"the lean input needs the worker's FleetConsumer, not {consumer!r}")
    lean = consumer.lean = LeanInput(
        worker.metrics_topic.get_topic_name(), app.conf.stream_buffer_maxsize
    )
    # Faust clears the queues its flow control manages at every revocation (before this
    # worker's revocation hook) and when the flow resumes: the seek that follows reads it again.
    app.flow_control.manage_queue(lean)  # type: ignore[arg-type]  # a channel queue's duties
    app.topics.add(worker.metrics_topic)

    @app.task  # type: ignore[untyped-decorator]  # Faust's task decorator is untyped
    async def process_metrics_lean() -> None:
        worker.sink.start()
        try:
            while True:
                messages = await lean.take(settings.chunk_max, settings.chunk_wait_s)
                await handle_chunk(worker, [LeanEvent(m, consumer) for m in messages])
        except Exception as exc:  # an agent's crash stops the worker; so must this task's
            log.exception("the lean input stopped")
            await app.crash(exc)
            raise


async def handle_chunk(worker: Worker, events: list[Any]) -> list[Outcome]:
    """Process a chunk of ``fleet.metrics`` in order; returns what became of each (for tests).

    A chunk is filled before it is processed, so a rebalance may come between. Events fetched
    in an earlier consumer generation, any met while Faust's flow is stopped (from the
    revocation until the partitions are sought back to their last commit), and any handed out
    before their partition's latest seek (Faust resumes the flow for table recovery before it
    seeks) are skipped unacknowledged: the seek re-reads them, for this worker or the
    partition's new owner. Learning them instead would put them in models the revocation has
    already dropped, or will drop: a forked copy of a node the new owner learns too.

    Not ``app.rebalancing``: Faust clears it only after the seek and the fetcher's restart, so
    events read in between were skipped and never read again; a commit then either stuck
    behind them or, on a partition never committed, passed them (issue 17).
    """
    outcomes = []
    app, acks = worker.app, worker.acks
    for event in events:
        message = event.message
        stale = fetched_before_rebalance(app, message) or overtaken(app, message)
        if stale or not app.flow_control.is_active():
            outcomes.append(Outcome.STALE)
            continue
        acks.track(event)
        outcomes.append(await handle_event(worker, event))
    return outcomes


async def handle_event(worker: Worker, event: Any) -> Outcome:
    """Process one message of ``fleet.metrics``; returns what became of it (for tests)."""
    message = event.message
    origin = Origin(message.topic, message.partition, message.offset)
    batch = decode_or_dead_letter(MetricBatch, event.value, origin)
    if isinstance(batch, DeadLetter):
        await _dead_letter(worker, batch, event)
        return Outcome.DEAD_LETTER
    for observe in worker.batch_observers:
        await observe(batch)
    checkpoints = worker.checkpoints
    try:
        with checkpoints.processing(batch.node_id, event) as model:
            if model.has_applied(origin.partition, origin.offset):
                # Acknowledged with the node's next save: the live models that hold it may
                # not be saved yet (read again after a seek, not after a restart).
                worker.meters.replayed.inc()
                checkpoints.applied(batch.node_id, event)
                return Outcome.REPLAYED
            if model.has_learned_batch(batch.batch_id):
                # Acknowledged with the node's next save, like the original it repeats.
                model.mark_applied(origin.partition, origin.offset)
                worker.meters.duplicates.inc()
                checkpoints.applied(batch.node_id, event)
                return Outcome.DUPLICATE
            detection = worker.processor.process_one(model, batch)
            model.mark_applied(origin.partition, origin.offset, batch.batch_id)
            sink_seq = await emit(worker, detection)
    except Exception as exc:  # noqa: BLE001 - a message that breaks a model must not stop the stream
        reason = f"processing failed: {type(exc).__name__}: {exc}"
        letter = dead_letter(reason, "ProcessingError", event.value or b"", origin)
        await _dead_letter(worker, letter, event)
        return Outcome.DEAD_LETTER
    worker.meters.batches.inc()
    worker.meters.points.inc(len(batch.metrics))
    checkpoints.applied(batch.node_id, event, sink_seq)
    if checkpoints.save_one_if_due(batch.node_id):
        worker.meters.saves.inc()
    return Outcome.PROCESSED


async def emit(worker: Worker, detection: Detection) -> int:
    """Send events to their topic and queue points for InfluxDB; the points' sink number."""
    for anomaly in detection.events:
        key = anomaly.node_id.encode()
        await worker.anomalies_topic.send(key=key, value=encode(anomaly))
    worker.meters.anomalies.inc(len(detection.events))
    return await _add_points(worker, detection.points) if detection.points else 0


async def _add_points(worker: Worker, points: list[Point | str]) -> int:
    """Queue points, waiting while InfluxDB is up but slower than the worker.

    Kafka keeps the backlog meanwhile (nothing is acknowledged); dropping points from a full
    buffer would lose them for good. Once the worker stops, the points are not queued: the
    message is never acknowledged, so its partition's next owner re-reads it.
    """
    started_at = time.monotonic()
    waited = False
    while True:
        try:
            sink_seq = worker.sink.add_many(points)
            break
        except SinkBackpressure as exc:
            if worker.checkpoints.closed:
                return 0
            waited = True
            await asyncio.sleep(exc.retry_after_s)
    if waited:
        worker.meters.sink_wait.inc(time.monotonic() - started_at)
    return sink_seq


async def _dead_letter(worker: Worker, letter: DeadLetter, event: Any) -> None:
    try:
        await worker.deadletter_topic.send(key=letter.topic.encode(), value=encode(letter))
    except Exception as exc:  # noqa: BLE001 - losing a letter beats stopping the stream
        origin = Origin(letter.topic, letter.partition, letter.offset)
        log.error("dead letter from %s could not be sent, dropped: %r", origin, exc)
    worker.meters.dead_letters.inc()
    worker.acks.done(event)


async def _close_quiet_windows(worker: Worker) -> None:
    """Windows of nodes quiet for a whole window close by the clock, not by a next batch."""
    checkpoints = worker.checkpoints
    now = utc_now()
    for node_id, model in checkpoints.quiet(worker.settings.window_s):
        events = worker.processor.expire_one(model, now)
        if events:
            detection = Detection(host_score=None)  # no batch behind these events
            worker.processor.add_events(detection, events)
            checkpoints.touched(node_id, await emit(worker, detection))


def _stop(worker: Worker) -> None:
    """Save every node's models before the consumer stops, then write what the sink holds.

    Saving stops for good here: messages still processed while Faust winds down have nowhere
    to write their points, so they are left unacknowledged for the next owner to re-read.
    """
    worker.meters.saves.inc(worker.checkpoints.close())
    worker.sink.close()
