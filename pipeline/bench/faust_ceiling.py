"""The stream layer's own ceiling: how fast a Faust agent that does nothing reads ``fleet.metrics``.

Run as ``python -m pipeline.bench.faust_ceiling EXPECTED RESULT_FILE`` with the worker's
FLEETWATCH_* settings in the environment: the same app, topic, fetch size and chunking as the
worker, but the agent only acknowledges. Once it has read EXPECTED messages it writes
``{"read": ..., "timed": ..., "elapsed_s": ...}`` to RESULT_FILE (messages read, those read
after the first chunk, and the seconds they took) and waits to be stopped. The benchmark sets the
worker's figure against this one and against a raw aiokafka consume, so a low ratio can be
told apart: the stream layer's share, and the detection's.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faust.worker import Worker as FaustWorker

from pipeline import topics
from pipeline.config import KafkaSettings, StreamSettings, TopicSettings, load
from pipeline.stream.app import make_app, raw_topic


class Stopwatch:
    """Messages counted from the first chunk on; writes the reading once ``expected`` are in.

    ``clock`` is a monotonic clock in seconds (``time.perf_counter``; tests pass their own).
    """

    def __init__(
        self, expected: int, result_file: Path, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.expected = expected
        self.result_file = result_file
        self.clock = clock
        self.seen = 0
        self.first_chunk = 0
        self.started_at: float | None = None

    def count(self, messages: int) -> None:
        """Add a chunk of ``messages``; the first chunk only starts the clock."""
        now = self.clock()
        if self.started_at is None:
            self.started_at, self.first_chunk = now, messages
        self.seen += messages
        if self.seen >= self.expected and not self.result_file.exists():
            reading = {
                "read": self.seen,
                "timed": self.seen - self.first_chunk,
                "elapsed_s": max(now - self.started_at, 1e-9),
            }
            self.result_file.write_text(json.dumps(reading))


def main(expected: int, result_file: Path) -> None:
    """Consume until stopped (SIGTERM), writing the rate to ``result_file`` on the way."""
    kafka, topic_settings = load(KafkaSettings), load(TopicSettings)
    stream = load(StreamSettings)
    stream.data_dir.mkdir(parents=True, exist_ok=True)
    app = make_app(kafka, topic_settings, stream)
    topic = raw_topic(app, topics.METRICS.name(topic_settings.prefix))
    stopwatch = Stopwatch(expected, result_file)

    @app.agent(topic, concurrency=1)
    async def drain(events_stream: Any) -> Any:
        async for events in events_stream.noack_take(stream.chunk_max, stream.chunk_wait_s):
            for event in events:
                event.ack()
            stopwatch.count(len(events))
            yield len(events)

    FaustWorker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
