"""Simulated nodes send the agent's culprit telemetry, and a fault drives its culprit's series."""

from __future__ import annotations

from dataclasses import replace

from pipeline.models import MetricBatch
from pipeline.sim import FaultSpec, Scenario, SimulatedFleet
from pipeline.sim.culprits import culprit_of
from pipeline.sim.library.workloads import main_workload
from tests.conftest import BASE_TIME

START_S = 600.0


def _fleet(kind: str, telemetry: bool = True) -> SimulatedFleet:
    scenario = Scenario(
        nodes=8,
        faults=(FaultSpec(kind, start_s=START_S, duration_s=1200.0),),  # type: ignore[arg-type]
        duration_s=2400.0,
        warmup_s=300.0,
        start_at=BASE_TIME,
        seed=5,
        culprit_telemetry=telemetry,
    )
    return SimulatedFleet(scenario)


def _node_round(fleet: SimulatedFleet, node_id: str, round_index: int) -> MetricBatch:
    return next(b for b in fleet.batches(round_index) if b.node_id == node_id)


def _instances(batch: MetricBatch, prefix: str) -> set[str]:
    return {m.split(".")[1] for m in batch.metrics if m.startswith(prefix + ".")}


def _culprit_series(fleet: SimulatedFleet, node_id: str, round_index: int) -> dict[str, float]:
    metrics = _node_round(fleet, node_id, round_index).metrics
    return {m: v for m, v in metrics.items() if m.startswith(("proc.", "unit."))}


def test_every_node_reports_its_processes_and_units_not_only_a_culprit() -> None:
    fleet = _fleet("cpu_runaway")
    for batch in fleet.batches(3):
        processes = _instances(batch, "proc")
        assert {"sshd", "systemd-journal", "fleetwatch"} <= processes
        assert len(processes) >= 4 and len(_instances(batch, "unit")) >= 4
        assert "cruncher" not in processes  # no fault yet: the runaway has not started


def test_a_runaway_is_a_new_process_carrying_the_cpu_it_added() -> None:
    fleet = _fleet("cpu_runaway")
    (node_id,) = fleet.faults[0].node_ids
    healthy = replace(fleet.scenario, faults=())
    during = int((START_S + 300) // fleet.scenario.interval_s)
    hit = _node_round(fleet, node_id, during)
    calm = _node_round(SimulatedFleet(healthy), node_id, during)
    added_percent = hit.metrics["cpu.usage_user"] - calm.metrics["cpu.usage_user"]
    cores = fleet.nodes[0].profile.cores
    assert hit.metrics["proc.cruncher.cpu_percent"] > 0.9 * added_percent * cores
    assert hit.metrics["unit.cruncher.cpu_percent"] > 0.9 * added_percent * cores
    others = [b for b in fleet.batches(during) if b.node_id != node_id]
    assert all("proc.cruncher.cpu_percent" not in b.metrics for b in others)


def test_a_leak_grows_its_service_unit_and_packet_loss_blames_no_process() -> None:
    fleet = _fleet("memory_leak")
    (node_id,) = fleet.faults[0].node_ids
    role = next(n.profile.role for n in fleet.nodes if n.node_id == node_id)
    _process, unit = culprit_of("memory_leak", role)
    rounds = [int((START_S + s) // fleet.scenario.interval_s) for s in (0, 400, 800)]
    memory = [_node_round(fleet, node_id, r).metrics[f"unit.{unit}.memory_bytes"] for r in rounds]
    assert memory[0] < memory[1] < memory[2]
    assert culprit_of("network_loss", role) == (None, None)
    lossy = _fleet("network_loss")
    (lossy_node,) = lossy.faults[0].node_ids
    during = rounds[1]
    healthy = SimulatedFleet(replace(lossy.scenario, faults=()))
    assert _culprit_series(lossy, lossy_node, during) == _culprit_series(
        healthy, lossy_node, during
    )


def test_without_culprit_telemetry_only_host_metrics_are_sent() -> None:
    batch = _fleet("cpu_runaway", telemetry=False).batches(0)[0]
    assert not _instances(batch, "proc") and not _instances(batch, "unit")


def test_a_leak_that_fills_the_node_is_placed_on_a_unit_without_a_memory_cap() -> None:
    # A capped unit (batch's java, MemoryMax 8 GiB) is OOM-killed at its cap; it cannot fill the
    # node's memory as the simulated leak does. Every seed puts the leak on an uncapped unit.
    for seed in range(12):
        scenario = replace(_fleet("memory_leak").scenario, seed=seed, nodes=20)
        fleet = SimulatedFleet(scenario)
        (node_id,) = fleet.faults[0].node_ids
        role = next(n.profile.role for n in fleet.nodes if n.node_id == node_id)
        assert main_workload(role).memory_max_bytes is None, (seed, node_id)
