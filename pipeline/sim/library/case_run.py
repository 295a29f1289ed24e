"""One scenario run with one seed: its nodes, faults placed in time, changes, rows and truth."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.errors import ConfigError
from pipeline.models import ChangeEvent
from pipeline.sim.library.catalogue import FAULT_TYPES, MAIN, Effect
from pipeline.sim.library.effects_service import rolling_restart
from pipeline.sim.library.hit import Hit
from pipeline.sim.library.scenario_file import FaultEntry, ScenarioEntry, ScenarioFile
from pipeline.sim.library.workloads import main_workload, workload_metrics
from pipeline.sim.nodes import ROLES, VirtualNode, derive

BASE_START_AT = datetime(2026, 1, 5, tzinfo=UTC)  # cases are reproducible: no "now" in them
ROLLOUT_STAGGER_S = 120.0  # a deploy reaches the next node of the role this much later


@dataclass(frozen=True)
class Placed:
    """An effect on some nodes from their start (``starts_at[node]``) to ``end_at``."""

    effect: Effect
    starts_at: dict[str, datetime]
    end_at: datetime
    process: str | None
    unit: str | None
    intensity: float = 1.0


@dataclass
class CaseRun:
    """Everything one case directory holds, and its ground truth."""

    case_id: str
    labels: dict[str, dict[str, str]]
    window_start_at: datetime
    window_end_at: datetime
    changes: list[ChangeEvent] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, list[tuple[datetime, dict[str, float]]]] = field(default_factory=dict)


class CaseBuilder:
    """Places a scenario's faults and changes for one seed, then simulates every round."""

    def __init__(self, spec: ScenarioFile, entry: ScenarioEntry, seed: int) -> None:
        self.spec, self.entry, self.seed = spec, entry, seed
        self.case_id = f"{entry.name}-s{seed}"
        self.rng = random.Random(f"{entry.name}:{seed}")  # noqa: S311 - simulation, not secrets
        count = entry.nodes or spec.defaults.nodes
        self.node_ids = [f"{entry.role}-{i + 1:02d}" for i in range(count)]
        self.culprit = self.rng.randrange(count)
        base_seed = zlib.crc32(entry.name.encode()) * 1000 + seed * 50
        self.nodes = [
            VirtualNode(node_id, ROLES[entry.role], {"role": entry.role, "zone": f"z{i % 3 + 1}"},
                        seed=base_seed + i)
            for i, node_id in enumerate(self.node_ids)
        ]  # fmt: skip
        self.start_at = BASE_START_AT + timedelta(hours=self.rng.randrange(24))
        self.placed: list[Placed] = []
        self.deploys: list[ChangeEvent] = []  # made by bad_deploy faults

    def build(self) -> CaseRun:
        """Place everything, simulate every round of every node."""
        d = self.spec.defaults
        first_start_at = self.start_at + timedelta(seconds=d.history_s)
        truths = [
            self._place(fault, first_start_at, i) for i, fault in enumerate(self.entry.faults)
        ]
        first = self.placed[0]
        run = CaseRun(self.case_id, {n.node_id: n.labels for n in self.nodes},
                      min(first.starts_at.values()), first.end_at)  # fmt: skip
        harmless = self._harmless(run.window_start_at)
        run.changes = sorted(self.deploys + harmless, key=lambda c: c.changed_at)
        run.truth = dict(truths[0])
        if truths[1:]:
            run.truth["secondary"] = truths[1:]
        if harmless:
            run.truth["harmless_changes"] = [c.change_id for c in harmless]
        end_at = max(
            [run.window_end_at + timedelta(seconds=d.tail_s)] + [p.end_at for p in self.placed]
        )
        run.rows = {n.node_id: list(self._rows(n, end_at)) for n in self.nodes}
        return run

    def _place(self, fault: FaultEntry, first_start_at: datetime, index: int) -> dict[str, Any]:
        kind = FAULT_TYPES[fault.type]
        default_offset = round(
            self.rng.uniform(0, 600) if index == 0 else self.rng.uniform(300, 900)
        )
        start_at = first_start_at + timedelta(seconds=fault.start_s if fault.start_s is not None
                                              else default_offset)  # fmt: skip
        node = self._node(fault, index)
        targets = self._rollout(node, fault.share) if fault.type == "bad_deploy" else [node]
        starts_at = {
            self.node_ids[n]: start_at + timedelta(seconds=i * ROLLOUT_STAGGER_S)
            for i, n in enumerate(targets)
        }
        process, unit = self._culprit(fault.process or kind.process, fault.unit or kind.unit)
        end_at = start_at + timedelta(seconds=fault.duration_s or kind.duration_s)
        intensity = fault.intensity * self.rng.uniform(0.85, 1.15)
        self.placed.append(Placed(kind.effect, starts_at, end_at, process, unit, intensity))
        truth: dict[str, Any] = {"kind": kind.kind, "culprit": self.node_ids[node]}
        truth |= {"fault_type": fault.type, "metrics": kind.signature(process, unit)}
        truth |= {k: v for k, v in (("culprit_process", process), ("culprit_unit", unit)) if v}
        if fault.type == "bad_deploy":
            change = ChangeEvent(
                change_id=f"{self.case_id}-{fault.type}-{index}", kind="deploy",
                role=self.entry.role, nodes=list(starts_at), version=fault.version,
                who=fault.who, changed_at=start_at, summary=f"{unit} {fault.version}",
            )  # fmt: skip
            self.deploys.append(change)
            truth["culprit_change"] = change.change_id
        return truth

    def _node(self, fault: FaultEntry, index: int) -> int:
        if fault.node == "culprit":
            return self.culprit
        if fault.node == "peer":
            return self.rng.choice([i for i in range(len(self.node_ids)) if i != self.culprit])
        if fault.node >= len(self.node_ids):
            raise ConfigError(
                f"scenario {self.entry.name}: faults[{index}].node {fault.node} but the case has "
                f"{len(self.node_ids)} nodes (0-{len(self.node_ids) - 1})"
            )
        return fault.node

    def _rollout(self, first: int, share: float) -> list[int]:
        others = [i for i in range(len(self.node_ids)) if i != first]
        self.rng.shuffle(others)
        return [first] + others[: max(1, round(len(self.node_ids) * share)) - 1]

    def _culprit(self, process: str | None, unit: str | None) -> tuple[str | None, str | None]:
        main = main_workload(self.entry.role)
        return (main.process if process == MAIN else process, main.unit if unit == MAIN else unit)

    def _harmless(self, first_start_at: datetime) -> list[ChangeEvent]:
        changes = []
        main = main_workload(self.entry.role)
        for i, entry in enumerate(self.entry.changes):
            at = first_start_at + timedelta(seconds=entry.at_s)
            change = ChangeEvent(
                change_id=f"{self.case_id}-{entry.kind}-{i}", kind=entry.kind,
                role=self.entry.role, nodes=list(self.node_ids), version=entry.version,
                who=entry.who, changed_at=at,
            )  # fmt: skip
            changes.append(change)
            starts_at = {
                node_id: at + timedelta(seconds=30.0 * n) for n, node_id in enumerate(self.node_ids)
            }
            end_at = at + timedelta(seconds=30.0 * len(self.node_ids) + 600)
            self.placed.append(Placed(rolling_restart, starts_at, end_at, main.process, main.unit))
        return changes

    def _rows(
        self, node: VirtualNode, end_at: datetime
    ) -> Iterator[tuple[datetime, dict[str, float]]]:
        interval_s = self.spec.defaults.interval_s
        rounds = int((end_at - self.start_at).total_seconds() // interval_s)
        for r in range(rounds):
            at = self.start_at + timedelta(seconds=r * interval_s)
            rng = random.Random(f"{self.case_id}:{node.node_id}:{r}")  # noqa: S311
            metrics = node.healthy_metrics(r, at, interval_s)
            metrics |= workload_metrics(node.profile, metrics, rng)
            for placed in self.placed:
                self._apply(placed, node, at, metrics, rng)
            yield at, metrics

    def _apply(self, placed: Placed, node: VirtualNode, at: datetime, metrics: dict[str, float],
               rng: random.Random) -> None:  # fmt: skip
        begins = placed.starts_at.get(node.node_id)
        if begins is None or not begins <= at < placed.end_at:
            return
        span_s = (placed.end_at - begins).total_seconds()
        age_s = (at - begins).total_seconds()
        hit = Hit(node.profile, min(1.0, age_s / span_s), age_s, placed.intensity,
                  placed.process, placed.unit, self.spec.defaults.interval_s, rng)  # fmt: skip
        placed.effect(metrics, hit)
        derive(metrics, node.profile)
