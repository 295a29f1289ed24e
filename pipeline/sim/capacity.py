"""A seeded fleet of hosts whose memory and disks run out slowly (``fleetwatch eval drift``).

Each host has a daily load cycle (its own amplitude, varying from day to day), sensor noise,
nightly jobs (a backup at 02:00 that loads CPU and memory for half an hour, a log rotation at
03:00 that gives back about a point of disk) and disks that grow a little every day. A third of
the hosts leak memory (1-12 %/h of RAM), a third fill a disk (0.5-6 %/h), the rest are controls;
faults start after ``history_days`` of ordinary life and run until the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
GIB = 1024.0**3
T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, midnight UTC
MEMORY_BYTES = 64 * GIB
DISK_BYTES = 500 * GIB
LEAK_RATES = (1.0, 12.0)  # % of RAM per hour
FILL_RATES = (0.5, 6.0)  # % of the disk per hour
KINDS = ("memory_leak", "disk_filling", "control")
# The level at which each fault hurts (the benchmark's deadline) and the series it shows on.
LIMITS = {
    "memory_leak": ("mem.used_percent", 95.0),
    "disk_filling": ("disk.root.used_percent", 98.0),
}


@dataclass(frozen=True)
class CapacityHost:
    """One simulated host: its metric columns and the fault it carries (if any)."""

    node_id: str
    kind: str
    rate_per_h: float
    start_s: float  # fault start, seconds after T0 (inf for controls)
    times_s: Floats  # seconds after T0
    metrics: dict[str, Floats]

    @property
    def crossing_s(self) -> float:
        """When the faulted series first reaches its limit (inf: never within the run)."""
        if self.kind not in LIMITS:
            return float("inf")
        metric, limit = LIMITS[self.kind]
        above = np.flatnonzero(self.metrics[metric] >= limit)
        after = above[self.times_s[above] >= self.start_s]
        return float(self.times_s[after[0]]) if len(after) else float("inf")


def make_host(
    index: int, days: int, interval_s: float, history_days: float, seed: int
) -> CapacityHost:
    """Host ``index`` of a seeded fleet (the same seed gives the same host)."""
    rng = np.random.default_rng([seed, index])
    kind = KINDS[index % len(KINDS)]
    times_s = np.arange(0.0, days * 86_400.0, interval_s)
    hour = (times_s % 86_400.0) / 3600.0
    day = (times_s // 86_400.0).astype(int)
    load = _daily_load(hour, day, rng)
    backup = (hour >= 2.0) & (hour < 2.5)
    mem = (
        rng.uniform(25, 60)
        + rng.uniform(2, 12) * load
        + 8.0 * backup
        + rng.normal(0, 0.6, len(times_s))
    )
    disk = _disk(times_s, hour, rng)
    start_s, rate = float("inf"), 0.0
    if kind != "control":
        low, high = LEAK_RATES if kind == "memory_leak" else FILL_RATES
        rate = float(rng.uniform(low, high))
        level = float(np.median(mem if kind == "memory_leak" else disk))
        # Start early enough that the limit is reached six hours before the run ends.
        need_s = (LIMITS[kind][1] - level) / rate * 3600.0 + 6 * 3600.0
        latest_s = max(history_days * 86_400.0, days * 86_400.0 - need_s)
        start_s = float(rng.uniform(history_days * 86_400.0, latest_s))
        ramp = np.clip(times_s - start_s, 0.0, None) / 3600.0 * rate
        if kind == "memory_leak":
            mem = mem + ramp
        else:
            disk = disk + ramp
    mem, disk = np.clip(mem, 0.5, 100.0), np.clip(disk, 1.0, 100.0)
    cpu = np.clip(5 + 40 * load + 35 * backup + rng.normal(0, 2.0, len(times_s)), 0.5, 100)
    metrics = {
        "cpu.usage_user": cpu,
        "load.load1": np.clip(cpu / 100 * 8 + rng.normal(0, 0.2, len(times_s)), 0, None),
        "mem.used_percent": mem,
        "mem.available_bytes": MEMORY_BYTES * (1 - mem / 100),
        "mem.swap_used_percent": np.clip(
            1.0 + np.clip(mem - 90, 0, None) * 5 + rng.normal(0, 0.05, len(times_s)), 0, 100
        ),
        "disk.root.used_percent": disk,
        "disk.root.free_bytes": DISK_BYTES * (1 - disk / 100),
    }
    return CapacityHost(f"cap-{index:03d}", kind, rate, start_s, times_s, metrics)


def _daily_load(hour: Floats, day: npt.NDArray[np.int_], rng: np.random.Generator) -> Floats:
    """0..1 activity peaking mid-afternoon, each day's amplitude 10 % different."""
    amplitude = rng.normal(1.0, 0.1, int(day.max()) + 1)[day]
    phase_h = rng.uniform(-1.0, 1.0)
    return np.clip(amplitude * (0.5 + 0.5 * np.sin(2 * np.pi * (hour + phase_h - 9) / 24)), 0, 1.2)


def _disk(times_s: Floats, hour: Floats, rng: np.random.Generator) -> Floats:
    """Disk used: a base, slow growth, logs written by day and rotated away at 03:00."""
    base = rng.uniform(30, 80)
    growth_per_h = rng.uniform(0.0, 0.04)
    logs = rng.uniform(0.5, 1.5) * ((hour - 3.0) % 24.0) / 24.0  # back to 0 at 03:00
    return base + growth_per_h * times_s / 3600.0 + logs + rng.normal(0, 0.003, len(times_s))


def fleet_times(times_s: Floats) -> list[datetime]:
    """Sample times of the run as datetimes."""
    return [T0 + timedelta(seconds=float(s)) for s in times_s]
