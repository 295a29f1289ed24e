"""Faults of a node's resources: CPU, memory, swap, file descriptors, disk space and disk I/O."""

from __future__ import annotations

from pipeline.sim.library.hit import Hit, add_cpu, bump, set_unit
from pipeline.sim.library.workloads import FILE_MAX
from pipeline.sim.nodes import GIB, MIB


def ramp(hit: Hit, seconds: float) -> float:
    """0 → 1 over the first ``seconds`` of the fault: nothing real jumps in zero time."""
    return min(1.0, (hit.age_s + hit.interval_s) / seconds)


def runaway_process(m: dict[str, float], hit: Hit) -> None:
    """A process spins on every core it can get (no cgroup quota stops it)."""
    added = add_cpu(m, hit, 72 * hit.intensity * ramp(hit, 120) * hit.rng.uniform(0.95, 1.05))
    bump(m, hit, cpu_percent=added * hit.cores, threads=hit.cores, rss_bytes=300 * MIB)


def noisy_neighbour(m: dict[str, float], hit: Hit) -> None:
    """Another unit on the node burns CPU up to its ``cpu.max`` and is throttled there."""
    quota_percent = 100.0 * max(2, hit.cores // 2)  # of one core, as systemd's CPUQuota=
    added = add_cpu(m, hit, quota_percent / hit.cores * ramp(hit, 120) * hit.intensity)
    bump(m, hit, cpu_percent=added * hit.cores, threads=16, rss_bytes=700 * MIB)
    set_unit(m, hit, "throttled_percent", min(100.0, 55 + 30 * hit.intensity + hit.rng.gauss(0, 4)))


def unit_memory_leak(m: dict[str, float], hit: Hit) -> None:
    """The unit's memory grows steadily; nothing is killed (yet)."""
    leak_bytes = hit.progress * hit.intensity * 0.5 * hit.profile.memory_bytes
    leak_percent = 100 * leak_bytes / hit.profile.memory_bytes
    leak_percent = min(leak_percent, max(0.0, 97 - m["mem.used_percent"]))
    m["mem.used_percent"] += leak_percent
    bump(m, hit, rss_bytes=leak_percent / 100 * hit.profile.memory_bytes)
    _limit_percent(m, hit)


def oom_kills(m: dict[str, float], hit: Hit) -> None:
    """A unit hits its ``memory.max`` over and over: the kernel kills it, systemd restarts it."""
    killed = hit.rng.random() < 0.4 * hit.intensity
    m["mem.used_percent"] = max(m["mem.used_percent"], 88 + hit.rng.uniform(0, 5))
    m["mem.major_faults_per_s"] += hit.rng.uniform(50, 200)
    if killed:
        m["mem.oom_kills_per_s"] += 1 / hit.interval_s
        set_unit(m, hit, "oom_kills_per_s", 1 / hit.interval_s)
        set_unit(m, hit, "restarts_per_s", 1 / hit.interval_s)
    work = hit.workload()
    if work is not None and work.memory_max_bytes:
        fill = hit.rng.uniform(0.3, 0.6) if killed else hit.rng.uniform(0.9, 1.0)
        target = work.memory_max_bytes * fill / 1.15
        bump(m, hit, rss_bytes=target - m.get(f"proc.{hit.process}.rss_bytes", 0.0))
    _limit_percent(m, hit)


def swap_thrash(m: dict[str, float], hit: Hit) -> None:
    """A process's working set outgrows memory: the node pages in and out all the time."""
    depth = hit.intensity * ramp(hit, 600)
    m["mem.used_percent"] = max(m["mem.used_percent"], 95 + 2.5 * depth)
    m["mem.swap_used_percent"] += 45 * depth
    m["mem.swap_in_pages_per_s"] += 2000 * depth * hit.rng.uniform(0.6, 1.4)
    m["mem.major_faults_per_s"] += 600 * depth * hit.rng.uniform(0.6, 1.4)
    m["cpu.usage_iowait"] += 12 * depth
    bump(m, hit, rss_bytes=0.45 * depth * hit.profile.memory_bytes, cpu_percent=30 * depth)


def fd_leak(m: dict[str, float], hit: Hit) -> None:
    """A process opens descriptors and never closes them, up to its ``RLIMIT_NOFILE``."""
    work = hit.workload()
    limit = work.fd_limit if work is not None else 1024.0
    count = work.count if work is not None else 1.0
    start = m.get(f"proc.{hit.process}.open_fds", 0.0) / count
    per_process = start + (limit - start) * min(1.0, hit.progress * hit.intensity * 1.15)
    added = (per_process - start) * count
    bump(m, hit, open_fds=added)
    m[f"proc.{hit.process}.fd_limit_percent"] = min(100.0, 100 * per_process / limit)
    m["processes.open_fds"] += added
    m["processes.open_fds_percent"] = 100 * m["processes.open_fds"] / FILE_MAX


def log_fills_disk(m: dict[str, float], hit: Hit) -> None:
    """A runaway log fills the root file system."""
    used = m["disk.root.used_percent"]
    m["disk.root.used_percent"] = used + (99.5 - used) * min(1.0, hit.progress * hit.intensity)
    written = 60 * MIB * hit.intensity * hit.rng.uniform(0.8, 1.2)
    if m["disk.root.used_percent"] >= 99.4:
        written *= 0.05  # the file system is full: writes fail
    m["diskio.sda.write_bytes_per_s"] += written
    m["diskio.sda.busy_percent"] = min(100.0, m["diskio.sda.busy_percent"] + written / MIB / 3)
    bump(m, hit, write_bytes_per_s=written, cpu_percent=12 * hit.intensity)


def io_saturation(m: dict[str, float], hit: Hit) -> None:
    """A process reads the disk as fast as it goes: the device is busy, everyone waits."""
    depth = hit.intensity * ramp(hit, 120)
    read = 180 * MIB * depth * hit.rng.uniform(0.85, 1.15)
    m["diskio.sda.read_bytes_per_s"] += read
    m["diskio.sda.busy_percent"] = min(100.0, 97 + 3 * hit.rng.random())
    m["cpu.usage_iowait"] += 22 * depth
    m["load.load1"] += 6 * depth  # tasks in D state count in the load average
    bump(m, hit, read_bytes_per_s=read, cpu_percent=8 * depth, rss_bytes=0.2 * GIB)


def _limit_percent(m: dict[str, float], hit: Hit) -> None:
    work = hit.workload()
    key = f"unit.{hit.unit}.memory_bytes"
    if work is not None and work.memory_max_bytes and key in m:
        set_unit(m, hit, "memory_limit_percent", min(100.0, 100 * m[key] / work.memory_max_bytes))
