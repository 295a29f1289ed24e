"""N ``fleetwatch worker`` processes in one consumer group, timed together on one backlog."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.bench.worker_process import WorkerProcess
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.errors import FleetwatchError

POLL_S = 0.1  # between two scrapes of every worker's /metrics


@dataclass(frozen=True)
class GroupReading:
    """What a group of workers did with a backlog of ``expected`` batches.

    ``batches`` and ``points`` are summed over the workers' own counters: a batch processed by
    two workers (re-read after a rebalance before its node was saved) counts twice, one no
    worker processed not at all, so ``batches == expected`` means none lost and none twice.
    """

    workers: int
    expected: int
    batches: int
    points: int
    timed: int
    elapsed_s: float
    dead_letters: int

    @property
    def per_s(self) -> float:
        """Batches per second of the group, from its first processed batch on."""
        return self.timed / self.elapsed_s


@dataclass
class WorkerGroup:
    """``size`` workers sharing one app id (one consumer group), each with its own state."""

    processes: list[WorkerProcess]

    @classmethod
    def in_directory(
        cls,
        directory: Path,
        size: int,
        kafka: KafkaSettings,
        influx: InfluxSettings,
        topic_settings: TopicSettings,
        **options: Any,
    ) -> WorkerGroup:
        """``size`` workers in a new group; state and logs under ``directory/<n>``."""
        app_id = f"fleetwatch-group-{uuid.uuid4().hex[:8]}"
        processes = [
            WorkerProcess(
                kafka,
                influx,
                topic_settings,
                app_id=app_id,
                data_dir=directory / f"w{index}" / "state",
                log_path=directory / f"w{index}.log",
                **options,
            )
            for index in range(size)
        ]
        return cls(processes)

    def start(self) -> None:
        """Start every worker at once; they join the group together."""
        for process in self.processes:
            process.start()

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop every worker (each saves its models and flushes its sink)."""
        for process in self.processes:
            process.stop(timeout_s)

    def totals(self) -> dict[str, float]:
        """Every counter summed over the workers' ``/metrics``."""
        summed: dict[str, float] = {}
        for process in self.processes:
            for name, value in process.metrics().items():
                summed[name] = summed.get(name, 0.0) + value
        return summed

    def time_backlog(self, expected: int, timeout_s: float) -> GroupReading:
        """Time the group from its first processed batch until ``expected`` are processed."""
        deadline = time.monotonic() + timeout_s
        first_at, first_count, count = 0.0, 0, 0
        while time.monotonic() < deadline and all(p.alive for p in self.processes):
            count = int(self.totals().get("fleetwatch_batches_total", 0.0))
            if count > 0 and not first_at:
                first_at, first_count = time.perf_counter(), count
            if count >= expected:
                return self._reading(expected, first_count, time.perf_counter() - first_at)
            time.sleep(POLL_S)
        logs = ", ".join(str(p.log_path) for p in self.processes)
        raise FleetwatchError(f"worker group processed {count} of {expected} batches ({logs})")

    def _reading(self, expected: int, first_count: int, elapsed_s: float) -> GroupReading:
        time.sleep(1.0)  # a batch processed twice would be counted a moment later: wait for it
        totals = self.totals()
        batches = int(totals.get("fleetwatch_batches_total", 0.0))
        if batches <= first_count or elapsed_s <= 0:
            raise FleetwatchError("backlog too small to time: raise --rounds")
        return GroupReading(
            workers=len(self.processes),
            expected=expected,
            batches=batches,
            points=int(totals.get("fleetwatch_points_total", 0.0)),
            timed=expected - first_count,
            elapsed_s=elapsed_s,
            dead_letters=int(totals.get("fleetwatch_dead_letters_total", 0.0)),
        )
