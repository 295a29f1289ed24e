"""The fault library: each fault type, the diagnosis kind it is, its culprit and its effect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from pipeline.sim.library import effects_host as host
from pipeline.sim.library import effects_service as service
from pipeline.sim.library.hit import Hit

# The core diagnosis kinds (issue 15); the names are fixed, the diagnosis engine uses them too.
DiagnosisKind = Literal[
    "cpu_saturation",
    "memory_leak",
    "memory_pressure",
    "disk_full",
    "io_saturation",
    "network_degradation",
    "load_spike",
    "process_crash",
    "fd_exhaustion",
    "bad_change",
    "app_errors",
    "unknown",
]
DIAGNOSIS_KINDS: tuple[str, ...] = get_args(DiagnosisKind)
Effect = Callable[[dict[str, float], Hit], None]
MAIN = "@main"  # the culprit is the role's own application (gunicorn/api on web, ...)


@dataclass(frozen=True)
class FaultType:
    """A fault the simulator can inject.

    ``process``/``unit`` name the default culprit (``MAIN`` = the role's application; ``None``
    = no process is to blame, e.g. the network); a scenario may name another. ``metrics`` are
    the series it moves most, first the one that shows it best (``{process}``/``{unit}`` are
    filled in with the culprit).
    """

    kind: DiagnosisKind
    effect: Effect
    process: str | None
    unit: str | None
    duration_s: float
    summary: str
    metrics: tuple[str, ...]

    def signature(self, process: str | None, unit: str | None) -> list[str]:
        """The series the fault moves first and most, culprit names filled in."""
        return [m.format(process=process, unit=unit) for m in self.metrics]


FAULT_TYPES: dict[str, FaultType] = {
    "runaway_process": FaultType(
        "cpu_saturation", host.runaway_process, "cruncher", "cruncher", 1800,
        "a process spins on every core, no quota stops it",
        ("proc.{process}.cpu_percent", "cpu.usage_active", "load.load1"),
    ),
    "noisy_neighbour": FaultType(
        "cpu_saturation", host.noisy_neighbour, "ffmpeg", "transcode", 1800,
        "another unit burns CPU up to its cpu.max and is throttled",
        ("unit.{unit}.throttled_percent", "unit.{unit}.cpu_percent", "cpu.usage_active"),
    ),
    "unit_memory_leak": FaultType(
        "memory_leak", host.unit_memory_leak, MAIN, MAIN, 5400,
        "a unit's memory grows steadily, nothing killed yet",
        ("unit.{unit}.memory_bytes", "proc.{process}.rss_bytes", "mem.used_percent"),
    ),
    "oom_kills": FaultType(
        "memory_pressure", host.oom_kills, MAIN, MAIN, 1800,
        "a unit hits memory.max again and again: OOM kills and restarts",
        ("unit.{unit}.oom_kills_per_s", "mem.oom_kills_per_s", "unit.{unit}.restarts_per_s"),
    ),
    "swap_thrash": FaultType(
        "memory_pressure", host.swap_thrash, "analytics", "analytics", 2400,
        "a working set outgrows memory: swap in/out, major faults, iowait",
        ("mem.swap_in_pages_per_s", "mem.major_faults_per_s", "proc.{process}.rss_bytes"),
    ),
    "fd_leak": FaultType(
        "fd_exhaustion", host.fd_leak, MAIN, MAIN, 3600,
        "a process never closes descriptors, up to its RLIMIT_NOFILE",
        ("proc.{process}.fd_limit_percent", "proc.{process}.open_fds"),
    ),
    "log_fills_disk": FaultType(
        "disk_full", host.log_fills_disk, MAIN, MAIN, 3600,
        "the service's runaway log fills the root file system",
        ("disk.root.used_percent", "proc.{process}.write_bytes_per_s"),
    ),
    "io_saturation": FaultType(
        "io_saturation", host.io_saturation, "rsync", "backup", 1800,
        "a backup reads the disk flat out; everyone waits on I/O",
        ("diskio.sda.busy_percent", "cpu.usage_iowait", "proc.{process}.read_bytes_per_s"),
    ),
    "packet_loss": FaultType(
        "network_degradation", service.packet_loss, None, None, 1800,
        "the node's link drops packets",
        ("net.tcp_retrans_percent", "net.eth0.rx_drops_per_s"),
    ),
    "network_latency": FaultType(
        "network_degradation", service.network_latency, None, None, 1800,
        "the path is slow: connections pile up, throughput falls",
        ("net.tcp_established", "net.tcp_retrans_percent"),
    ),
    "crash_loop": FaultType(
        "process_crash", service.crash_loop, MAIN, MAIN, 1800,
        "a service dies right after it starts, and systemd restarts it",
        ("unit.{unit}.restarts_per_s", "processes.forks_per_s"),
    ),
    "fork_storm": FaultType(
        "load_spike", service.fork_storm, "worker-spawn", "jobs", 1200,
        "a process forks without bound: tasks and load explode",
        ("proc.{process}.count", "processes.total", "load.threads"),
    ),
    "bad_deploy": FaultType(
        "bad_change", service.bad_deploy, MAIN, MAIN, 2400,
        "a deploy to a role makes its service slower, hungrier and flaky",
        ("proc.{process}.cpu_percent", "unit.{unit}.restarts_per_s", "net.tcp_retrans_percent"),
    ),
}  # fmt: skip
