"""The demo's scripted scenario: a mixed fleet, every fault kind operators fear, time-compressed."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.models import ChangeEvent, utc_now
from pipeline.sim import FaultSpec, Scenario, SimulatedFleet

# Simulated span: an hour of normal life for the detectors to learn, then the faults.
WARMUP_S = 3600.0
FAULT_DURATION_S = 1800.0
INTERVAL_S = 10.0
DEMO_FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("cpu_runaway", start_s=WARMUP_S + 600),
    FaultSpec("memory_leak", start_s=WARMUP_S + 1500),
    FaultSpec("disk_filling", start_s=WARMUP_S + 2400),
    FaultSpec("network_loss", start_s=WARMUP_S + 3300),
    FaultSpec("bad_deploy", start_s=WARMUP_S + 4200, role="web", share=0.3),
)
# Quiet time after the last fault ends, so late windows close and false alarms can show.
TAIL_S = 900.0
# The simulated span (2.9 h) always ends at this hour of the day, the latest one by now: every run
# replays the same simulated morning, so a seed gives the same data whatever hour it is run at.
# Ending at the wall clock, the result depended on it: the batch nodes' nightly job (01:00-04:00,
# which an hour of warm-up cannot teach) starting in the span gave 165 false alarms and 14 false
# incidents, and the diurnal load of the other roles 2-4 false incidents by day. A morning, away
# from the job; the data is then up to a day old, which the pipeline streams like any other.
END_HOUR_UTC = 13


def demo_scenario(nodes: int, seed: int = 7, now: datetime | None = None) -> Scenario:
    """The scripted scenario for ``nodes`` virtual nodes (at least 10, so every role exists).

    Its span ends at the latest ``END_HOUR_UTC`` o'clock by ``now`` (default: the wall clock).
    """
    if nodes < 10:
        raise ValueError(f"the demo needs at least 10 nodes, got {nodes}")
    last_start = max(spec.start_s or 0.0 for spec in DEMO_FAULTS)
    duration_s = last_start + FAULT_DURATION_S + TAIL_S
    return Scenario(
        nodes=nodes,
        faults=DEMO_FAULTS,
        seed=seed,
        interval_s=INTERVAL_S,
        duration_s=duration_s,
        start_at=span_end(now or utc_now()) - timedelta(seconds=duration_s),
        fault_duration_s=FAULT_DURATION_S,
        warmup_s=WARMUP_S,
        node_prefix="demo",
    )


def span_end(now: datetime) -> datetime:
    """The latest ``END_HOUR_UTC`` o'clock at or before ``now``: where the simulated span ends."""
    end = now.replace(hour=END_HOUR_UTC, minute=0, second=0, microsecond=0)
    return end if end <= now else end - timedelta(days=1)


def speed_for(scenario: Scenario, wall_budget_s: float) -> float:
    """Simulated seconds per wall second so the whole span fits ``wall_budget_s``."""
    if wall_budget_s <= 0:
        raise ValueError(f"wall_budget_s must be positive, got {wall_budget_s}")
    return scenario.duration_s / wall_budget_s


def deploy_changes(fleet: SimulatedFleet) -> dict[str, ChangeEvent]:
    """The change event a CI/CD hook records for each bad deploy, by fault id.

    Recorded at the rollout's start (``fleetwatch change record`` in a real pipeline), so the
    diagnosis can blame the deploy and the scorecard can check that it did.
    """
    return {
        fault.fault_id: ChangeEvent(
            change_id=f"demo-deploy-{fault.fault_id}",
            kind="deploy",
            role=fault.role,
            nodes=sorted(fault.node_ids)[:64],
            version="2.0.0-demo",
            who="demo-ci",
            summary=f"rollout of 2.0.0-demo to {len(fault.node_ids)} {fault.role} nodes",
            changed_at=fault.start_at,
        )
        for fault in fleet.faults
        if fault.kind == "bad_deploy"
    }
