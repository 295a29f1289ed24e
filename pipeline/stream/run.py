"""Run one stream worker until it is told to stop."""

from __future__ import annotations

import logging

from faust.worker import Worker as FaustWorker

from pipeline import topics
from pipeline.bus import ensure_topics
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import make_worker

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
    FaustWorker(worker.app, loglevel=stream.log_level, quiet=True).execute_from_commandline()
