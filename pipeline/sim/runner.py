"""Publish a simulated fleet (or a replay) through the agent's Publisher, time-compressed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.agent.inventory import InventorySender
from pipeline.agent.publisher import Publisher
from pipeline.models import MetricBatch
from pipeline.sim.fleet import SimulatedFleet

DRAIN_BUDGET_S = 30.0
# Simulated nodes announce themselves like agents (AgentSettings' default refresh), in
# simulated time: the inventory's expiry runs on the data's clock.
INVENTORY_REFRESH_S = 300.0


@dataclass(frozen=True)
class SimulationReport:
    """What a run published."""

    rounds: int
    batches: int
    delivered: int
    spooled: int
    dropped: int
    wall_s: float
    simulated_s: float


def write_ground_truth(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line (creating parent directories); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record, sort_keys=True) for record in records]
    path.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def fleet_rounds(fleet: SimulatedFleet, rounds: int | None = None) -> Iterator[list[MetricBatch]]:
    """Round after round of the fleet's batches (all of its span unless ``rounds``)."""
    for index in range(min(rounds, fleet.rounds) if rounds is not None else fleet.rounds):
        yield fleet.batches(index)


def run_simulation(
    fleet: SimulatedFleet,
    publisher: Publisher,
    speed: float = 60.0,
    ground_truth_path: Path | None = None,
    rounds: int | None = None,
    stop: threading.Event | None = None,
    on_round: Callable[[int, list[MetricBatch]], None] | None = None,
) -> SimulationReport:
    """Publish the fleet's rounds, ``speed`` simulated seconds per wall second.

    Parameters
    ----------
    fleet
        What to publish; its faults go to ``ground_truth_path`` before the first batch.
    publisher
        The agent's publisher (same spool, ordering and delivery rules as real nodes).
    speed
        Time compression; ``0`` publishes as fast as Kafka acknowledges.
    rounds
        Stop after this many rounds (default: the scenario's whole span).
    stop
        Set it to end early; what was published is still flushed.
    on_round
        Called after each round is handed to the publisher (progress bars).
    """
    if ground_truth_path is not None:
        write_ground_truth(ground_truth_path, (f.ground_truth() for f in fleet.faults))
    return publish_rounds(
        fleet_rounds(fleet, rounds), publisher, speed, fleet.scenario.interval_s, stop, on_round
    )


def publish_rounds(
    source: Iterable[list[MetricBatch]],
    publisher: Publisher,
    speed: float,
    interval_s: float,
    stop: threading.Event | None = None,
    on_round: Callable[[int, list[MetricBatch]], None] | None = None,
) -> SimulationReport:
    """Pace rounds ``interval_s / speed`` wall seconds apart, publish each, flush at the end.

    Each node's inventory record goes out before its first batch, then every few minutes of
    simulated time, as an agent's does.
    """
    if speed < 0:
        raise ValueError(f"speed must be >= 0, got {speed}")
    stop = stop or threading.Event()
    inventory = InventorySender.beside(publisher, INVENTORY_REFRESH_S)
    started = time.monotonic()
    wall_per_round = interval_s / speed if speed else 0.0
    count = batches = 0
    for batches_of_round in source:
        if stop.is_set():
            break
        inventory.send_due(batches_of_round)
        publisher.publish_many(batches_of_round)
        publisher.drain(max(wall_per_round, 1.0))
        count, batches = count + 1, batches + len(batches_of_round)
        if on_round is not None:
            on_round(count, batches_of_round)
        stop.wait(max(0.0, started + count * wall_per_round - time.monotonic()))
    publisher.drain(DRAIN_BUDGET_S, force=True)
    inventory.close(DRAIN_BUDGET_S)
    return SimulationReport(
        rounds=count,
        batches=batches,
        delivered=publisher.delivered,
        spooled=len(publisher.spool),
        dropped=publisher.spool.dropped,
        wall_s=time.monotonic() - started,
        simulated_s=count * interval_s,
    )
