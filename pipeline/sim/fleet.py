"""A Scenario (nodes, roles, faults, time span) and the SimulatedFleet that makes its batches."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.models import MetricBatch, utc_now
from pipeline.sim.culprits import can_host, charge_culprit, healthy_workloads
from pipeline.sim.faults import FAULT_KINDS, Fault, FaultKind
from pipeline.sim.nodes import ROLES, VirtualNode, derive

DEFAULT_ROLES = {"web": 0.4, "db": 0.2, "cache": 0.2, "batch": 0.2}


@dataclass(frozen=True)
class FaultSpec:
    """A fault to inject; ``None`` fields are chosen by the scenario (seeded).

    ``start_s`` is counted from the scenario start in simulated seconds. ``role`` (bad_deploy)
    picks which role's nodes are hit; ``share`` how many of them.
    """

    kind: FaultKind
    start_s: float | None = None
    duration_s: float | None = None
    node_ids: tuple[str, ...] | None = None
    role: str | None = None
    share: float = 0.5
    intensity: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """What to simulate.

    Parameters
    ----------
    nodes
        How many virtual nodes.
    faults
        Fault kinds or FaultSpecs; kinds get a time and node(s) from the seed.
    duration_s
        Simulated span; ``interval_s`` apart samples cover it.
    start_at
        Simulated time of the first sample; None = so that the last sample is about now.
    fault_duration_s
        Default length of a fault.
    warmup_s
        No fault starts before this, so detectors have seen normal behaviour.
    culprit_telemetry
        Send each node's processes and units (``proc.*``, ``unit.*``) as an agent with its
        default collectors does, faults driving their culprit's series.
    """

    nodes: int = 20
    faults: tuple[FaultKind | FaultSpec, ...] = ()
    roles: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    seed: int = 0
    interval_s: float = 10.0
    duration_s: float = 6 * 3600.0
    start_at: datetime | None = None
    fault_duration_s: float = 1800.0
    warmup_s: float = 1800.0
    node_prefix: str = "sim"
    zones: int = 3
    culprit_telemetry: bool = True

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ValueError(f"nodes must be >= 1, got {self.nodes}")
        if self.interval_s <= 0 or self.duration_s < self.interval_s:
            raise ValueError("interval_s must be > 0 and duration_s >= interval_s")
        unknown = [r for r in self.roles if r not in ROLES]
        if unknown or not self.roles:
            raise ValueError(f"unknown roles {unknown}; valid: {', '.join(ROLES)}")
        for spec in self.faults:
            kind = spec.kind if isinstance(spec, FaultSpec) else spec
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; valid: {', '.join(FAULT_KINDS)}")


class SimulatedFleet:
    """N virtual nodes and a fault schedule; ``batches(i)`` is round ``i`` of the whole fleet.

    Examples
    --------
    >>> fleet = SimulatedFleet(Scenario(nodes=4, faults=("cpu_runaway",), duration_s=7200))
    >>> len(fleet.batches(0)), fleet.rounds
    (4, 720)
    >>> fleet.faults[0].kind
    'cpu_runaway'
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.start_at = scenario.start_at or _default_start(scenario)
        self.rounds = int(scenario.duration_s // scenario.interval_s)
        self._rng = random.Random(scenario.seed)  # noqa: S311 - simulation, not secrets
        self.nodes = self._make_nodes()
        self.faults = [self._schedule(i, spec) for i, spec in enumerate(scenario.faults)]

    def sampled_at(self, round_index: int) -> datetime:
        """Simulated time of round ``round_index``."""
        return self.start_at + timedelta(seconds=round_index * self.scenario.interval_s)

    def batches(self, round_index: int) -> list[MetricBatch]:
        """One MetricBatch per node for round ``round_index``, faults applied (``seq`` = round)."""
        sampled_at = self.sampled_at(round_index)
        active = [f for f in self.faults if f.active(sampled_at)]
        out = []
        for node in self.nodes:
            metrics = node.healthy_metrics(round_index, sampled_at, self.scenario.interval_s)
            telemetry = self.scenario.culprit_telemetry
            if telemetry:
                metrics |= healthy_workloads(node, round_index, metrics)
            for fault in active:
                if node.node_id in fault.node_ids:
                    before = dict(metrics)
                    fault.apply(metrics, sampled_at)
                    derive(metrics, node.profile)
                    if telemetry:
                        charge_culprit(
                            fault, node, before, metrics, sampled_at, self.scenario.interval_s
                        )
            out.append(
                MetricBatch(
                    node_id=node.node_id,
                    sampled_at=sampled_at,
                    labels=node.labels,
                    metrics=metrics,
                    seq=round_index,
                )
            )
        return out

    def _make_nodes(self) -> list[VirtualNode]:
        s = self.scenario
        roles = list(s.roles)
        weights = [s.roles[r] for r in roles]
        nodes = []
        for i in range(s.nodes):
            # The first nodes cover every role once, so small fleets still have each of them.
            role = roles[i] if i < len(roles) else self._rng.choices(roles, weights)[0]
            labels = {"role": role, "zone": f"z{i % s.zones + 1}", "rack": f"r{i // 8 + 1:02d}"}
            node_id = f"{s.node_prefix}-{role}-{i:04d}"
            nodes.append(VirtualNode(node_id, ROLES[role], labels, seed=s.seed * 100_003 + i))
        return nodes

    def _schedule(self, index: int, spec: FaultKind | FaultSpec) -> Fault:
        s = self.scenario
        spec = spec if isinstance(spec, FaultSpec) else FaultSpec(kind=spec)
        duration_s = spec.duration_s or s.fault_duration_s
        if spec.start_s is None:  # spread the faults evenly over the span after the warm-up
            room = max(0.0, s.duration_s - s.warmup_s - duration_s)
            slot = room / max(1, len(s.faults))
            start_s = s.warmup_s + slot * index + self._rng.uniform(0, slot * 0.5)
        else:
            start_s = spec.start_s
        role, node_ids = self._targets(spec)
        start_at = self.start_at + timedelta(seconds=start_s)
        return Fault(
            fault_id=f"f{index + 1:03d}-{spec.kind}",
            kind=spec.kind,
            node_ids=node_ids,
            start_at=start_at,
            end_at=start_at + timedelta(seconds=duration_s),
            intensity=spec.intensity,
            role=role,
        )

    def _targets(self, spec: FaultSpec) -> tuple[str | None, tuple[str, ...]]:
        if spec.node_ids is not None:
            return None, spec.node_ids
        if spec.kind != "bad_deploy":
            able = [n for n in self.nodes if can_host(spec.kind, n.profile.role)] or self.nodes
            return None, (self._rng.choice(able).node_id,)
        by_role: dict[str, list[str]] = {}
        for node in self.nodes:
            by_role.setdefault(node.profile.role, []).append(node.node_id)
        role = spec.role or max(by_role, key=lambda r: len(by_role[r]))
        if role not in by_role:
            raise ValueError(f"no node has role {role!r}; roles here: {', '.join(by_role)}")
        members = by_role[role]
        count = max(1, round(len(members) * spec.share))
        return role, tuple(sorted(self._rng.sample(members, count)))


def _default_start(scenario: Scenario) -> datetime:
    """So that the last sample is about now, on a whole second."""
    return (utc_now() - timedelta(seconds=scenario.duration_s)).replace(microsecond=0)
