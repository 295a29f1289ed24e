"""One fault acting on one node in one round (``Hit``), and how it changes a culprit's series."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.sim.library.workloads import ROLE_WORKLOADS, Workload
from pipeline.sim.nodes import RoleProfile


@dataclass(frozen=True)
class Hit:
    """What an effect needs to shape one round of one affected node.

    ``progress`` runs 0 → 1 over the fault; ``age_s`` is the simulated time since it began on this
    node; ``rng`` is seeded by case, node and round, so a case is the same whenever it is made.
    """

    profile: RoleProfile
    progress: float
    age_s: float
    intensity: float
    process: str | None
    unit: str | None
    interval_s: float
    rng: random.Random

    @property
    def cores(self) -> int:
        """CPUs of the node."""
        return self.profile.cores

    def workload(self) -> Workload | None:
        """The role's workload the culprit process is, when it is one (not a newcomer)."""
        return next(
            (w for w in ROLE_WORKLOADS[self.profile.role] if w.process == self.process), None
        )


def bump(m: dict[str, float], hit: Hit, **added: float) -> None:
    """Add to the culprit's ``proc.<process>.<field>`` and the matching ``unit.<unit>.*`` series.

    A process the node did not run before (a runaway job, a backup) starts from zero; its unit's
    series follow: ``cpu_percent`` → ``cpu_percent``, ``rss_bytes`` → ``memory_bytes``,
    ``threads`` → ``tasks``.
    """
    if hit.process is not None:
        prefix = f"proc.{hit.process}"
        if f"{prefix}.count" not in m:
            m |= {f"{prefix}.{f}": 0.0 for f in ("cpu_percent", "rss_bytes", "open_fds", "threads")}
            m |= {f"{prefix}.count": 1.0, f"{prefix}.read_bytes_per_s": 0.0}
            m |= {f"{prefix}.write_bytes_per_s": 0.0, f"{prefix}.fd_limit_percent": 0.0}
        for field, value in added.items():
            m[f"{prefix}.{field}"] = max(0.0, m.get(f"{prefix}.{field}", 0.0) + value)
    if hit.unit is not None:
        for field, unit_field in (("cpu_percent", "cpu_percent"), ("rss_bytes", "memory_bytes"),
                                  ("threads", "tasks")):  # fmt: skip
            key = f"unit.{hit.unit}.{unit_field}"
            m[key] = max(0.0, m.get(key, 0.0) + added.get(field, 0.0))
        m.setdefault(f"unit.{hit.unit}.oom_kills_per_s", 0.0)
        m.setdefault(f"unit.{hit.unit}.restarts_per_s", 0.0)


def add_cpu(m: dict[str, float], hit: Hit, percent_of_node: float) -> float:
    """Busy the CPUs by ``percent_of_node`` (capped at saturation); returns what was added."""
    room = max(0.0, 97.0 - m["cpu.usage_user"] - m["cpu.usage_system"] - m["cpu.usage_steal"])
    added = min(room, percent_of_node)
    m["cpu.usage_user"] += added
    m["load.load1"] += added / 100 * hit.cores
    return added


def set_unit(m: dict[str, float], hit: Hit, field: str, value: float) -> None:
    """Set one ``unit.<unit>.<field>`` of the culprit unit."""
    if hit.unit is not None:
        m[f"unit.{hit.unit}.{field}"] = value
