"""Run one stream worker until it is told to stop."""

from __future__ import annotations

import logging

from faust.worker import Worker as FaustWorker

from pipeline import topics
from pipeline.bus import create_missing_topics, ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import STATE_TABLE, make_worker
from pipeline.stream.worker import Worker

log = logging.getLogger(__name__)


def run_worker(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    stream: StreamSettings,
    influx: InfluxSettings,
) -> None:
    """Create missing topics, then consume until SIGTERM/SIGINT (flushing the sink at exit)."""
    created = ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    if created:
        log.info("created topics %s", ", ".join(created))
    stream.data_dir.mkdir(parents=True, exist_ok=True)
    worker = make_worker(kafka, topic_settings, stream, influx)
    ensure_changelog(kafka, worker, topic_settings.partitions)
    FaustWorker(worker.app, loglevel=stream.log_level, quiet=True).execute_from_commandline()


def ensure_changelog(kafka: KafkaSettings, worker: Worker, partitions: int) -> None:
    """Create the model table's changelog before the worker joins its group.

    Faust creates it while the consumer joins; when the group's leader computed the assignment
    before the topic existed, aiokafka keeps "0 partitions" for it until its next metadata
    refresh (5 minutes), and the first model save crashes the worker with PartitionsMismatch
    (seen once in a demo on a freshly started broker).
    """
    name: str = worker.app.tables[STATE_TABLE].changelog_topic.get_topic_name()
    compacted = {"cleanup.policy": "compact"}  # as Faust makes it: the latest model per node
    created = create_missing_topics(kafka, {name: (partitions, compacted)})
    if created:
        log.info("created the model changelog %s", created[0])
