"""Virtual nodes: per-role baselines, a daily cycle, noise and metrics that move together."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

GIB = 1024.0**3
MIB = 1024.0**2


@dataclass(frozen=True)
class RoleProfile:
    """How a role's node behaves on an ordinary day.

    ``*_base`` is the quiet-hours level, ``*_peak`` what the daily peak adds on top. ``batch``
    nodes instead run a nightly job (``job_hours``), a regular pattern that is not a fault.
    """

    role: str
    cpu_base: float
    cpu_peak: float
    mem_base: float
    mem_peak: float
    net_base_bytes: float
    net_peak_bytes: float
    io_base_bytes: float
    io_peak_bytes: float
    disk_base: float
    cores: int = 8
    memory_bytes: float = 32 * GIB
    job_hours: tuple[int, int] | None = None


ROLES: dict[str, RoleProfile] = {
    "web": RoleProfile("web", 8, 45, 35, 15, 2 * MIB, 30 * MIB, 0.2 * MIB, 1 * MIB, 30),
    "db": RoleProfile("db", 12, 35, 70, 10, 1 * MIB, 10 * MIB, 5 * MIB, 60 * MIB, 55),
    "cache": RoleProfile("cache", 5, 20, 80, 5, 5 * MIB, 50 * MIB, 0.1 * MIB, 0.5 * MIB, 20),
    "batch": RoleProfile(
        "batch", 3, 5, 20, 5, 0.5 * MIB, 1 * MIB, 1 * MIB, 2 * MIB, 40, job_hours=(1, 4)
    ),
}


def daily_load(sampled_at: datetime, phase_h: float) -> float:
    """0..1 activity: low at night, a peak mid-afternoon (UTC hour + the node's phase)."""
    hour = sampled_at.hour + sampled_at.minute / 60 + sampled_at.second / 3600 + phase_h
    return 0.5 + 0.5 * math.sin(2 * math.pi * (hour - 9) / 24)


class VirtualNode:
    """One simulated machine: a role, labels and a seeded random stream.

    Parameters
    ----------
    node_id
        Key of its batches.
    profile
        Its role's behaviour.
    labels
        Attached to every batch (role, zone, rack).
    seed
        Makes its noise reproducible: round ``i`` always gets the same values, whatever was
        generated before (so ``batches(i)`` can be asked again, in any order).
    """

    def __init__(
        self, node_id: str, profile: RoleProfile, labels: dict[str, str], seed: int
    ) -> None:
        self.node_id = node_id
        self.profile = profile
        self.labels = labels
        self.seed = seed
        setup = random.Random(seed)  # noqa: S311 - simulation noise, not secrets
        self.phase_h = setup.uniform(-1.0, 1.0)
        self.disk_start = profile.disk_base + setup.uniform(-5, 5)
        self.disk_growth_per_s = setup.uniform(0.0, 2e-5)  # percent: logs and data accumulate

    def healthy_metrics(
        self, round_index: int, sampled_at: datetime, interval_s: float
    ) -> dict[str, float]:
        """Metrics of round ``round_index`` at ``sampled_at`` (before any fault is applied)."""
        p = self.profile
        rng = random.Random(self.seed * 1_000_003 + round_index)  # noqa: S311 - noise
        load = self._activity(sampled_at)
        cpu_user = _clamp(p.cpu_base + p.cpu_peak * load + rng.gauss(0, 1.5), 0.5, 98)
        cpu_system = _clamp(cpu_user * 0.25 + rng.gauss(0, 0.5), 0.2, 40)
        io_bytes = max(0.0, p.io_base_bytes + p.io_peak_bytes * load * rng.uniform(0.8, 1.2))
        iowait = _clamp(io_bytes / (40 * MIB) * 3 + rng.gauss(0, 0.2), 0, 30)
        mem_used = _clamp(p.mem_base + p.mem_peak * load + rng.gauss(0, 0.6), 1, 99)
        rx = max(0.0, (p.net_base_bytes + p.net_peak_bytes * load) * rng.uniform(0.9, 1.1))
        disk_used = self.disk_start + self.disk_growth_per_s * round_index * interval_s
        metrics = {
            "cpu.usage_user": cpu_user,
            "cpu.usage_system": cpu_system,
            "cpu.usage_iowait": iowait,
            "cpu.usage_steal": _clamp(rng.gauss(0.3, 0.1), 0, 100),
            "load.load1": max(0.0, (cpu_user + cpu_system) / 100 * p.cores + rng.gauss(0, 0.15)),
            "mem.used_percent": mem_used,
            "mem.major_faults_per_s": max(0.0, rng.gauss(0.5, 0.3)),
            "mem.swap_used_percent": _clamp(rng.gauss(1.0, 0.1), 0, 100),
            "disk.root.used_percent": _clamp(disk_used + rng.gauss(0, 0.002), 1, 99),
            "diskio.sda.write_bytes_per_s": io_bytes * 0.7,
            "diskio.sda.read_bytes_per_s": io_bytes * 0.3,
            "diskio.sda.busy_percent": _clamp(io_bytes / (80 * MIB) * 100, 0, 100),
            "net.eth0.rx_bytes_per_s": rx,
            "net.eth0.tx_bytes_per_s": rx * (3.0 if p.role == "web" else 0.8),
            "net.eth0.rx_drops_per_s": max(0.0, rng.gauss(0.01, 0.01)),
            "net.tcp_retrans_percent": _clamp(rng.gauss(0.2, 0.05), 0, 100),
            "processes.total": float(int(180 + 40 * load + rng.gauss(0, 2))),
            "processes.zombies": 0.0,
        }
        derive(metrics, self.profile)
        return metrics

    def _activity(self, sampled_at: datetime) -> float:
        job = self.profile.job_hours
        if job is not None:  # nightly batch job: busy inside its hours, idle otherwise
            return 0.9 if job[0] <= sampled_at.hour < job[1] else 0.05
        return daily_load(sampled_at, self.phase_h)


def derive(metrics: dict[str, float], profile: RoleProfile) -> None:
    """Recompute the metrics that follow from others (after faults changed them)."""
    busy = metrics["cpu.usage_user"] + metrics["cpu.usage_system"] + metrics["cpu.usage_steal"]
    busy = min(busy, 100.0 - metrics["cpu.usage_iowait"])
    metrics["cpu.usage_active"] = busy
    metrics["cpu.usage_idle"] = max(0.0, 100.0 - busy - metrics["cpu.usage_iowait"])
    metrics["mem.available_bytes"] = profile.memory_bytes * (1 - metrics["mem.used_percent"] / 100)
    metrics["disk.root.free_bytes"] = 500 * GIB * (1 - metrics["disk.root.used_percent"] / 100)
    # Tasks wait for a CPU long before it saturates: PSI "some" grows smoothly with utilisation
    # (a hard zero below 70 % busy would make a series no real host reports).
    metrics["pressure.cpu.some_avg10"] = _clamp(60 * (busy / 100) ** 3, 0, 100)
    metrics["pressure.memory.some_avg10"] = _clamp((metrics["mem.used_percent"] - 90) * 5, 0, 100)
    metrics["pressure.io.some_avg10"] = _clamp(metrics["cpu.usage_iowait"] * 2, 0, 100)
    retrans = metrics["net.tcp_retrans_percent"]
    metrics["net.tcp_retrans_segs_per_s"] = (
        retrans / 100 * metrics["net.eth0.tx_bytes_per_s"] / 1448
    )


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
