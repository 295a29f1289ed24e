"""The demo's scripted scenario: a mixed fleet, every fault kind operators fear, time-compressed."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.models import ChangeEvent, utc_now
from pipeline.sim import FaultSpec, Scenario, SimulatedFleet
from pipeline.sim.nodes import ROLES

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


def demo_scenario(nodes: int, seed: int = 7, now: datetime | None = None) -> Scenario:
    """The scripted scenario for ``nodes`` virtual nodes (at least 10, so every role exists).

    Its span ends ``now`` (default: the wall clock) unless a nightly job starts or ends in it;
    then it ends before that (see :func:`span_end`).
    """
    if nodes < 10:
        raise ValueError(f"the demo needs at least 10 nodes, got {nodes}")
    last_start = max(spec.start_s or 0.0 for spec in DEMO_FAULTS)
    duration_s = last_start + FAULT_DURATION_S + TAIL_S
    end = span_end(now or utc_now(), timedelta(seconds=duration_s))
    return Scenario(
        nodes=nodes,
        faults=DEMO_FAULTS,
        seed=seed,
        interval_s=INTERVAL_S,
        duration_s=duration_s,
        start_at=(end - timedelta(seconds=duration_s)).replace(microsecond=0),
        fault_duration_s=FAULT_DURATION_S,
        warmup_s=WARMUP_S,
        node_prefix="demo",
    )


def span_end(now: datetime, duration: timedelta) -> datetime:
    """``now``, or the latest time before it whose span of ``duration`` has no job start or end.

    The batch nodes' nightly job (01:00-04:00 UTC) is normal life, but one the detectors cannot
    have learned in the demo's hour of warm-up: a span holding its start or end scored it as
    false alarms (165 and 14 false incidents in a run ending 02:30, against 15 and 3 by day), so
    the demo's result depended on the hour it was run at. Data of hours ago streams as well.
    """
    end = now
    while crossed := _job_boundaries(end - duration, end):
        end = min(crossed) - timedelta(seconds=INTERVAL_S)
    return end


def _job_boundaries(start: datetime, end: datetime) -> list[datetime]:
    """Starts and ends of every role's nightly job within (start, end]."""
    hours = {h for profile in ROLES.values() for h in profile.job_hours or ()}
    days = {start.date(), end.date()}
    moments = (
        datetime.combine(day, datetime.min.time(), start.tzinfo).replace(hour=h)
        for day in days
        for h in hours
    )
    return [m for m in moments if start < m <= end]


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
