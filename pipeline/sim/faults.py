"""Injected faults: what each kind does to a node's metrics, and its ground-truth record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

FaultKind = Literal[
    "cpu_runaway", "memory_leak", "disk_filling", "network_loss", "noisy_neighbour", "bad_deploy"
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "cpu_runaway",
    "memory_leak",
    "disk_filling",
    "network_loss",
    "noisy_neighbour",
    "bad_deploy",
)

# The metrics each kind moves directly (derived ones such as cpu.usage_idle follow them).
AFFECTED: dict[FaultKind, tuple[str, ...]] = {
    "cpu_runaway": ("cpu.usage_user", "cpu.usage_active", "load.load1", "pressure.cpu.some_avg10"),
    "memory_leak": (
        "mem.used_percent",
        "mem.available_bytes",
        "mem.swap_used_percent",
        "mem.major_faults_per_s",
    ),
    "disk_filling": (
        "disk.root.used_percent",
        "disk.root.free_bytes",
        "diskio.sda.write_bytes_per_s",
    ),
    "network_loss": (
        "net.tcp_retrans_percent",
        "net.tcp_retrans_segs_per_s",
        "net.eth0.rx_drops_per_s",
    ),
    "noisy_neighbour": ("cpu.usage_steal", "cpu.usage_active", "pressure.cpu.some_avg10"),
    "bad_deploy": (
        "cpu.usage_user",
        "cpu.usage_active",
        "mem.used_percent",
        "net.tcp_retrans_percent",
        "processes.total",
    ),
}


@dataclass(frozen=True)
class Fault:
    """One injected fault on one or more nodes, from ``start_at`` (inclusive) to ``end_at``."""

    fault_id: str
    kind: FaultKind
    node_ids: tuple[str, ...]
    start_at: datetime
    end_at: datetime
    intensity: float = 1.0
    role: str | None = None

    def active(self, sampled_at: datetime) -> bool:
        """Whether the fault shapes samples taken at ``sampled_at``."""
        return self.start_at <= sampled_at < self.end_at

    def progress(self, sampled_at: datetime) -> float:
        """0 at the start, 1 at the end: leaks and filling disks grow with it."""
        total = (self.end_at - self.start_at).total_seconds()
        return min(1.0, max(0.0, (sampled_at - self.start_at).total_seconds() / total))

    def apply(self, metrics: dict[str, float], sampled_at: datetime) -> None:
        """Change ``metrics`` of an affected node as this fault does at ``sampled_at``."""
        EFFECTS[self.kind](metrics, self.progress(sampled_at), self.intensity)

    def ground_truth(self) -> dict[str, Any]:
        """The JSON line written to the ground-truth file."""
        return {
            "fault_id": self.fault_id,
            "kind": self.kind,
            "node_ids": list(self.node_ids),
            "role": self.role,
            "metrics": list(AFFECTED[self.kind]),
            "start_at": self.start_at.isoformat(),
            "end_at": self.end_at.isoformat(),
            "intensity": self.intensity,
        }


def _cpu_runaway(m: dict[str, float], progress: float, k: float) -> None:
    # A spinning process: user time jumps to near saturation within a round or two.
    m["cpu.usage_user"] = min(97.0 - m["cpu.usage_system"], m["cpu.usage_user"] + 70 * k)
    m["load.load1"] += 6 * k


def _memory_leak(m: dict[str, float], progress: float, k: float) -> None:
    used = m["mem.used_percent"] + (98 - m["mem.used_percent"]) * min(1.0, progress * k * 1.2)
    m["mem.used_percent"] = used
    if used > 90:  # the kernel starts swapping and faulting pages back in
        m["mem.swap_used_percent"] += (used - 90) * 6
        m["mem.major_faults_per_s"] += (used - 90) * 40


def _disk_filling(m: dict[str, float], progress: float, k: float) -> None:
    used = m["disk.root.used_percent"]
    m["disk.root.used_percent"] = used + (99.5 - used) * min(1.0, progress * k)
    m["diskio.sda.write_bytes_per_s"] += 80 * 1024**2 * k


def _network_loss(m: dict[str, float], progress: float, k: float) -> None:
    m["net.tcp_retrans_percent"] += 8 * k
    m["net.eth0.rx_drops_per_s"] += 50 * k


def _noisy_neighbour(m: dict[str, float], progress: float, k: float) -> None:
    # Another tenant takes the host's CPU: steal rises, our own work gets slower, not bigger.
    m["cpu.usage_steal"] += 35 * k
    m["load.load1"] += 2 * k


def _bad_deploy(m: dict[str, float], progress: float, k: float) -> None:
    m["cpu.usage_user"] = min(95.0, m["cpu.usage_user"] * (1 + 1.2 * k))
    m["mem.used_percent"] = min(97.0, m["mem.used_percent"] + 15 * k)
    m["net.tcp_retrans_percent"] += 2 * k
    m["processes.total"] += 60 * k  # crash-looping workers


EFFECTS = {
    "cpu_runaway": _cpu_runaway,
    "memory_leak": _memory_leak,
    "disk_filling": _disk_filling,
    "network_loss": _network_loss,
    "noisy_neighbour": _noisy_neighbour,
    "bad_deploy": _bad_deploy,
}
