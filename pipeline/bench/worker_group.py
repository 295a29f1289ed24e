"""N ``fleetwatch worker`` processes in one consumer group, timed together on one backlog."""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline import topics
from pipeline.bench.group_offsets import GroupOffsets
from pipeline.bench.rebalance import RebalanceTimes, time_join_and_leave
from pipeline.bench.worker_process import WorkerProcess
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.errors import FleetwatchError

POLL_S = 0.1  # between two scrapes of every worker's /metrics
# A group that processes nothing for this long while short of the backlog is stuck, not slow:
# a rebalance with recovery takes seconds even on a loaded machine.
STALL_S = 120.0
LOG_TAIL_BYTES = 3000  # of each worker's log, in the error of a group that failed
# A worker acknowledges what it saved, and saves a node at most every snapshot_interval_s (10 s
# by default); a rebalance drops what was not saved, to be read again. A group that has still
# not acknowledged the backlog after this long is stuck, not slow.
ACK_TIMEOUT_S = 120.0


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
    unacknowledged: int = 0  # of the backlog, once the group stopped (see ``GroupOffsets``)
    rebalance_join_s: float | None = None  # see ``time_join_and_leave``
    rebalance_leave_s: float | None = None

    @property
    def per_s(self) -> float:
        """Batches per second of the group, from its first processed batch on."""
        return self.timed / self.elapsed_s


@dataclass
class WorkerGroup:
    """``size`` workers sharing one app id (one consumer group), each with its own state."""

    processes: list[WorkerProcess]

    @property
    def group_id(self) -> str:
        """The consumer group (the workers' app id)."""
        return self.processes[0].app_id

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

    def time_backlog(
        self, expected: int, timeout_s: float, stall_s: float = STALL_S
    ) -> GroupReading:
        """Time the group from its first processed batch until ``expected`` are processed.

        Raises
        ------
        FleetwatchError
            When a worker exits, nothing is processed for ``stall_s`` once the group started, or
            ``timeout_s`` passes (``report`` tells why).
        """
        deadline = time.monotonic() + timeout_s
        first_at, first_count, count = 0.0, 0, 0
        moved_at = time.monotonic()
        while time.monotonic() < deadline and all(p.alive for p in self.processes):
            now_count = int(self.totals().get("fleetwatch_batches_total", 0.0))
            if now_count > count or not first_at:
                moved_at = time.monotonic()
            elif time.monotonic() - moved_at > stall_s:
                break
            count = now_count
            if count > 0 and not first_at:
                first_at, first_count = time.perf_counter(), count
            if count >= expected:
                return self._reading(expected, first_count, time.perf_counter() - first_at)
            time.sleep(POLL_S)
        raise FleetwatchError(f"worker group processed {count} of {expected} batches")

    def report(self) -> str:
        """Each worker's state, counts and last log lines (its directory may be gone after)."""
        lines = []
        for index, process in enumerate(self.processes):
            meters = process.metrics()
            batches = meters.get("fleetwatch_batches_total", 0)
            lag = meters.get("fleetwatch_consumer_lag_messages", 0)
            state = "alive" if process.alive else "exited"
            lines.append(f"--- worker {index} ({state}): {batches:.0f} batches, lag {lag:.0f}")
            lines.append(process.log_excerpt(LOG_TAIL_BYTES))
        return "\n".join(lines)

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


def time_group(
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    workers: int,
    batches: int,
    extra_env: dict[str, str],
) -> GroupReading:
    """``workers`` workers in one new consumer group drain the backlog of ``batches``, timed.

    Then one more worker joins the group and leaves it again, each rebalance timed. The group is
    given time to acknowledge (save) the backlog before the newcomer joins and again before it
    stops: the backlog drains faster than a node's first save, and each rebalance drops what
    was not saved, to be read again. Once the group stopped, its committed offsets tell how
    many messages of the backlog it never acknowledged.
    """
    topic = topics.METRICS.name(topic_settings.prefix)
    with tempfile.TemporaryDirectory(prefix="fleetwatch-group-") as scratch:
        # INFO: a group that fails shows each worker's assignments and recoveries in its error.
        extra_env = extra_env | {StreamSettings.env_name("log_level"): "INFO"}
        everyone = WorkerGroup.in_directory(
            Path(scratch), workers + 1, kafka, influx, topic_settings, extra_env=extra_env
        )
        with GroupOffsets(kafka, everyone.group_id, topic) as offsets:
            reading, times = _drain_join_and_leave(everyone, batches, topic_settings, offsets)
            unacknowledged = offsets.unacknowledged()
    return replace(
        reading,
        unacknowledged=unacknowledged,
        rebalance_join_s=times.join_s,
        rebalance_leave_s=times.leave_s,
    )


def _drain_join_and_leave(
    everyone: WorkerGroup, batches: int, topic_settings: TopicSettings, offsets: GroupOffsets
) -> tuple[GroupReading, RebalanceTimes]:
    """All but the last of ``everyone`` drain the backlog; the last joins and leaves; all stop."""
    group, newcomer = WorkerGroup(everyone.processes[:-1]), everyone.processes[-1]
    group.start()
    try:
        reading = group.time_backlog(batches, 900)
        offsets.wait_acknowledged(ACK_TIMEOUT_S)  # rebalances of a group at rest, not re-reading
        times = time_join_and_leave(group.processes, newcomer, topic_settings.partitions)
        offsets.wait_acknowledged(ACK_TIMEOUT_S)  # what the rebalances made it read again
    except FleetwatchError as exc:
        raise FleetwatchError(f"{exc}\n{everyone.report()}") from None
    finally:
        group.stop(timeout_s=60)
    return reading, times
