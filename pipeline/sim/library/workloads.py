"""What runs on each simulated role: processes and units with their healthy ``proc.*``/``unit.*``.

The names and figures are what the agent's ``top`` and ``units`` collectors would report for a
typical node of the role (see ``pipeline/agent/collectors/top.py`` and ``units.py``), so the fault
library can make one of them the culprit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.sim.nodes import GIB, MIB, RoleProfile

FILE_MAX = 1_048_576.0  # fs.file-max of the simulated nodes


@dataclass(frozen=True)
class Workload:
    """One command (``proc.<process>``) in one systemd unit (``unit.<unit>``).

    ``cpu_share`` is its share of the node's user + system CPU; ``fds`` and ``rss_bytes`` are for
    all ``count`` processes together; ``fd_limit`` is each one's ``RLIMIT_NOFILE``.
    """

    process: str
    unit: str
    cpu_share: float
    rss_bytes: float
    fds: float
    threads: float
    count: float = 1.0
    fd_limit: float = 1024.0
    memory_max_bytes: float | None = None
    cpu_quota_percent: float | None = None
    write_bytes_per_s: float = 0.0


COMMON = (
    Workload("systemd-journal", "systemd-journald", 0.02, 60 * MIB, 40, 1, write_bytes_per_s=2e4),
    Workload("sshd", "ssh", 0.005, 8 * MIB, 12, 1, fd_limit=1024),
    Workload("fleetwatch", "fleetwatch-agent", 0.004, 45 * MIB, 14, 3),
)
ROLE_WORKLOADS: dict[str, tuple[Workload, ...]] = {
    "web": (
        Workload("gunicorn", "api", 0.55, 1.5 * GIB, 160, 24, 8, 1024, 6 * GIB, None, 2e5),
        Workload("nginx", "nginx", 0.25, 200 * MIB, 800, 4, 4, 65536, write_bytes_per_s=5e5),
    ),
    "db": (Workload("postgres", "postgresql", 0.8, 12 * GIB, 900, 40, 20, 65536, None, None, 8e6),),
    "cache": (Workload("redis-server", "redis", 0.7, 22 * GIB, 2000, 6, 1, 10032),),
    "batch": (Workload("java", "report", 0.8, 4 * GIB, 300, 60, 1, 4096, 8 * GIB, 400.0, 1e6),),
}


def main_workload(role: str) -> Workload:
    """The role's own application (the default culprit of app-level faults)."""
    return ROLE_WORKLOADS[role][0]


def workload_metrics(
    profile: RoleProfile, base: dict[str, float], rng: random.Random
) -> dict[str, float]:
    """``proc.*``, ``unit.*`` and the system-wide culprit metrics of a healthy round."""
    busy_cores = (base["cpu.usage_user"] + base["cpu.usage_system"]) / 100 * profile.cores
    metrics: dict[str, float] = {}
    for work in ROLE_WORKLOADS[profile.role] + COMMON:
        metrics |= _one(work, busy_cores, rng)
    open_fds = 2500 + sum(w.fds for w in ROLE_WORKLOADS[profile.role]) + rng.gauss(0, 20)
    metrics |= {
        "mem.oom_kills_per_s": 0.0,
        "mem.swap_in_pages_per_s": max(0.0, rng.gauss(0.2, 0.2)),
        "processes.forks_per_s": max(0.0, rng.gauss(3.0, 1.0)),
        "processes.open_fds": open_fds,
        "processes.open_fds_percent": 100 * open_fds / FILE_MAX,
        "load.threads": 420 + sum(w.threads for w in ROLE_WORKLOADS[profile.role]),
        "net.tcp_established": max(0.0, 40 + 400 * base["net.eth0.rx_bytes_per_s"] / (50 * MIB)),
    }
    return metrics


def _one(work: Workload, busy_cores: float, rng: random.Random) -> dict[str, float]:
    cpu = max(0.0, work.cpu_share * busy_cores * 100 * rng.uniform(0.9, 1.1))
    rss = work.rss_bytes * rng.uniform(0.98, 1.02)
    fds = max(0.0, round(work.fds + rng.gauss(0, work.fds * 0.02)))
    written = work.write_bytes_per_s * rng.uniform(0.7, 1.3)
    p, u = f"proc.{work.process}", f"unit.{work.unit}"
    metrics = {
        f"{p}.cpu_percent": cpu,
        f"{p}.rss_bytes": rss,
        f"{p}.open_fds": fds,
        f"{p}.fd_limit_percent": 100 * fds / work.count / work.fd_limit,
        f"{p}.threads": work.threads,
        f"{p}.count": work.count,
        f"{p}.read_bytes_per_s": written * 0.2,
        f"{p}.write_bytes_per_s": written,
        f"{u}.cpu_percent": cpu * 1.02,
        f"{u}.memory_bytes": rss * 1.15,  # page cache charged to the unit
        f"{u}.oom_kills_per_s": 0.0,
        f"{u}.tasks": work.threads,
        f"{u}.restarts_per_s": 0.0,
    }
    if work.memory_max_bytes:
        metrics[f"{u}.memory_limit_percent"] = 100 * rss * 1.15 / work.memory_max_bytes
    if work.cpu_quota_percent:
        metrics[f"{u}.throttled_percent"] = max(0.0, rng.gauss(0.5, 0.3))
    return metrics
