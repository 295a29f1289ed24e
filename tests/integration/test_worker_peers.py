"""The peer stage on real Kafka: a worker re-keys node rounds by cohort through fleet.peers and
reports the one node that drifts away from its role as a peer AnomalyEvent."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from subprocess import Popen

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics, make_producer
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.models import AnomalyEvent, MetricBatch, PeerSummary, decode, encode
from pipeline.stream.meters import scrape
from tests.conftest import BASE_TIME
from tests.integration.conftest import free_port
from tests.integration.test_worker import publish, read_topic
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
NODES, STEPS, STEP_S, DRIFT_FROM = 8, 120, 10, 40
STEPS_PER_ROUND = 6  # the worker's peer round is 60 s


def _lag(port: int) -> float:
    """Messages the worker has not read yet (infinite while its /metrics does not answer)."""
    return scrape(port).get("fleetwatch_consumer_lag_messages", math.inf)


def _batch(node: int, step: int) -> MetricBatch:
    load = 40.0 + 10.0 * math.sin(step / 30.0)  # the load every web node follows
    drift = 2.0 * (step - DRIFT_FROM) if node == 5 and step >= DRIFT_FROM else 0.0
    return MetricBatch(
        node_id=f"peer-web-{node}",
        sampled_at=BASE_TIME + timedelta(seconds=STEP_S * step),
        labels={"role": "web"},
        metrics={"cpu.usage_user": load + 0.3 * node + drift, "mem.used_percent": 50.0 + node},
        seq=step,
    )


def test_a_node_drifting_from_its_role_is_a_peer_event(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    port = free_port()
    worker = start_worker("w0", "--web-port", str(port))
    peers_topic = topics.PEERS.name(topic_settings.prefix)
    # Two rounds first, until every node's first summary is out: the worker is live and knows
    # the cohort. Then the rest in time order, as live nodes send it.
    publish(kafka, topic_settings, [_batch(n, s) for s in range(12) for n in range(NODES)])

    def first_round() -> set[str]:
        found = {decode(PeerSummary, raw).node_id for raw in read_topic(kafka, peers_topic, 2_000)}
        return found if len(found) == NODES else set()

    wait_for(first_round, 120, "every node's first round summary")
    producer = make_producer(kafka, linger_ms=5)
    for step in range(12, STEPS):
        for node in range(NODES):
            batch = _batch(node, step)
            producer.send(
                topics.METRICS.name(topic_settings.prefix),
                key=batch.node_id.encode(),
                value=encode(batch),
            )
        producer.flush(timeout=30)
        if step % STEPS_PER_ROUND == STEPS_PER_ROUND - 1:
            # Live nodes never run rounds ahead of the worker. A backlog would let one partition
            # get max_open_rounds ahead of the others on a loaded machine, and the rounds the
            # lagging nodes owe would close without them (counted late, not compared).
            wait_for(lambda: _lag(port) <= NODES, 120, "the worker reading the last round")
    producer.close()
    anomalies = topics.ANOMALIES.name(topic_settings.prefix)

    def peer_events() -> list[AnomalyEvent]:
        events = [decode(AnomalyEvent, raw) for raw in read_topic(kafka, anomalies)]
        return [e for e in events if e.kind == "peer"]

    events = wait_for(peer_events, 180, "a peer AnomalyEvent")
    assert worker.poll() is None, "worker died"
    assert {(e.node_id, e.metric, e.cohort) for e in events} == {
        ("peer-web-5", "cpu.usage_user", "role=web")
    }
    drift_at = BASE_TIME + timedelta(seconds=STEP_S * DRIFT_FROM)
    assert events[0].window_start_at >= drift_at
    summaries = [
        decode(PeerSummary, raw)
        for raw in read_topic(kafka, topics.PEERS.name(topic_settings.prefix))
    ]
    assert {s.cohort for s in summaries} == {"role=web"}
    assert len({s.node_id for s in summaries}) == NODES
