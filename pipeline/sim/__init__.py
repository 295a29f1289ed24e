"""Simulated fleet with labelled faults, and NAB replay, published through the agent's Publisher.

Python API (the demo and the benchmarks call it)::

    from pipeline.agent.publisher import Publisher
    from pipeline.agent.spool import MemorySpool
    from pipeline.sim import FaultSpec, Scenario, SimulatedFleet, run_simulation

    scenario = Scenario(
        nodes=20,                                  # roles web/db/cache/batch, zones, racks
        faults=("cpu_runaway", "memory_leak", FaultSpec("bad_deploy", role="web", share=0.5)),
        duration_s=6 * 3600,                       # simulated span, sampled every interval_s
        interval_s=10,
        seed=7,
    )
    fleet = SimulatedFleet(scenario)               # fleet.faults: the schedule (ground truth)
    publisher = Publisher(kafka, topics.METRICS.name(prefix), MemorySpool(256 * 2**20))
    report = run_simulation(fleet, publisher, speed=120, ground_truth_path=Path("truth.jsonl"))

- ``sampled_at`` is simulated time: ``start_at`` (default: so the last sample is about now) plus
  ``round × interval_s``. ``speed`` is simulated seconds per wall second (``0`` = as fast as
  Kafka acknowledges): 6 h at ``speed=120`` take 3 minutes.
- Fault kinds: cpu_runaway, memory_leak, disk_filling, network_loss, noisy_neighbour,
  bad_deploy (a ``share`` of one role's nodes at once). Unplaced faults are spread over the
  span after ``warmup_s``, on seeded random nodes.
- Culprit telemetry (``culprit_telemetry``, on by default, as the agent's default collectors):
  every node also sends its processes and units (``proc.<comm>.*``, ``unit.<unit>.*``: the role's
  application, nginx, sshd, journald, the agent); a fault's extra CPU, memory, disk writes and
  tasks go to its culprit (``culprits.culprit_of``: a runaway ``cruncher``, the role's service for
  a leak, a log filling the disk or a bad deploy; nobody for packet loss or a neighbour VM).
- Ground truth: one JSON line per fault with ``fault_id, kind, node_ids, role, metrics,
  start_at, end_at, intensity`` (``fleet.faults[i].ground_truth()``), written before the first
  batch is published.
- ``fleet.batches(i)`` gives round ``i`` without Kafka (offline evaluation and tests).
- Replay: ``load_series(dir)`` + ``replay_rounds(series, interval_s)`` + ``publish_rounds``
  send NAB-style ``timestamp,value`` CSVs as node metrics; ``replay_ground_truth`` turns NAB's
  labelled windows into the same ground-truth records.
"""

from __future__ import annotations

from pipeline.sim.faults import AFFECTED, FAULT_KINDS, Fault, FaultKind
from pipeline.sim.fleet import FaultSpec, Scenario, SimulatedFleet
from pipeline.sim.replay import load_series, replay_ground_truth, replay_rounds
from pipeline.sim.runner import (
    SimulationReport,
    publish_rounds,
    run_simulation,
    write_ground_truth,
)

__all__ = [
    "AFFECTED",
    "FAULT_KINDS",
    "Fault",
    "FaultKind",
    "FaultSpec",
    "Scenario",
    "SimulatedFleet",
    "SimulationReport",
    "load_series",
    "publish_rounds",
    "replay_ground_truth",
    "replay_rounds",
    "run_simulation",
    "write_ground_truth",
]
