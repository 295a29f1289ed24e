"""How long a worker group stops when one worker joins it and when one leaves it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.bench.worker_process import WorkerProcess
from pipeline.errors import FleetwatchError

POLL_S = 0.2
SETTLE_TIMEOUT_S = 180.0  # a rebalance on a loaded machine takes seconds; this is a hang


@dataclass(frozen=True)
class Settled:
    """A rebalance every member went through: the first start and the last end (Unix s)."""

    began_at_s: float
    ended_at_s: float


def settled_since(
    members: Sequence[WorkerProcess], since_s: float, partitions: int, timeout_s: float
) -> Settled:
    """Wait until every member ended a rebalance begun after ``since_s``, covering all partitions.

    Read from each worker's ``/metrics``: when its last rebalance began and ended (its sensor's
    wall-clock times) and how many input partitions it holds.

    Raises
    ------
    FleetwatchError
        When that is not so within ``timeout_s`` (or a member exited).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and all(m.alive for m in members):
        meters = [m.metrics() for m in members]
        began = [s.get("fleetwatch_rebalance_started_at_seconds", 0.0) for s in meters]
        ended = [s.get("fleetwatch_rebalance_ended_at_seconds", 0.0) for s in meters]
        held = sum(int(s.get("fleetwatch_assigned_partitions", 0.0)) for s in meters)
        if all(b > since_s and e >= b for b, e in zip(began, ended, strict=True)):
            if held == partitions:
                return Settled(min(began), max(ended))
        time.sleep(POLL_S)
    raise FleetwatchError(f"{len(members)} workers did not settle on {partitions} partitions")


@dataclass(frozen=True)
class RebalanceTimes:
    """Seconds the group was rebalancing when a worker joined, and when one left."""

    join_s: float
    leave_s: float


def time_join_and_leave(
    members: Sequence[WorkerProcess], newcomer: WorkerProcess, partitions: int
) -> RebalanceTimes:
    """Start ``newcomer`` in the group of ``members``, let it settle, then stop it.

    Join: from the first member's rebalance start to the last one's end (the newcomer's start-up
    before it asks to join is not a pause of the group). Leave: from the SIGTERM (the leaver
    stops processing then, saves its models and leaves the group) to the last remaining member's
    end of the rebalance that follows.
    """
    spawned_at_s = time.time()
    newcomer.start()
    try:
        joined = settled_since([*members, newcomer], spawned_at_s, partitions, SETTLE_TIMEOUT_S)
    finally:
        stopped_at_s = time.time()
        newcomer.stop(timeout_s=60)
    left = settled_since(members, stopped_at_s, partitions, SETTLE_TIMEOUT_S)
    return RebalanceTimes(
        join_s=joined.ended_at_s - joined.began_at_s,
        leave_s=left.ended_at_s - stopped_at_s,
    )
