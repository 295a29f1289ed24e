"""Collector names → factories; the agent builds the enabled ones from its settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.agent.collectors.base import Collector
from pipeline.agent.collectors.cpu import CpuCollector
from pipeline.agent.collectors.disk import DiskCollector
from pipeline.agent.collectors.load import LoadCollector
from pipeline.agent.collectors.memory import MemoryCollector
from pipeline.agent.collectors.net import NetCollector
from pipeline.agent.collectors.pressure import PressureCollector
from pipeline.agent.collectors.processes import ProcessCollector
from pipeline.agent.collectors.services import ServicesCollector
from pipeline.agent.collectors.temperature import TemperatureCollector
from pipeline.agent.collectors.top import TopProcessCollector
from pipeline.agent.collectors.units import UnitCollector


@dataclass(frozen=True)
class HostPaths:
    """Where the host's file systems are visible (all ``/host/...`` in a container), and top-N."""

    proc_root: Path = Path("/proc")
    sys_root: Path = Path("/sys")
    rootfs: Path = Path("/")
    run_root: Path = Path("/run")
    watch_units: tuple[str, ...] = field(default=())
    top_n: int = 5
    top_hold_rounds: int = 30


Factory = Callable[[HostPaths], Collector]

COLLECTORS: dict[str, Factory] = {
    "cpu": lambda p: CpuCollector(p.proc_root, p.sys_root),
    "load": lambda p: LoadCollector(p.proc_root, p.sys_root),
    "mem": lambda p: MemoryCollector(p.proc_root, p.sys_root),
    "pressure": lambda p: PressureCollector(p.proc_root, p.sys_root),
    "disk": lambda p: DiskCollector(p.proc_root, p.sys_root, rootfs=p.rootfs),
    "net": lambda p: NetCollector(p.proc_root, p.sys_root),
    "processes": lambda p: ProcessCollector(p.proc_root, p.sys_root),
    "services": lambda p: ServicesCollector(
        p.proc_root, p.sys_root, run_root=p.run_root, units=p.watch_units
    ),
    "temp": lambda p: TemperatureCollector(p.proc_root, p.sys_root),
    "top": lambda p: TopProcessCollector(p.proc_root, p.sys_root, p.top_n, p.top_hold_rounds),
    "units": lambda p: UnitCollector(p.proc_root, p.sys_root, p.top_n, p.top_hold_rounds),
}


def build_collectors(names: Sequence[str], paths: HostPaths) -> list[Collector]:
    """Instantiate the named collectors, in order.

    Raises
    ------
    ValueError
        When a name is unknown; the message lists the valid ones.
    """
    unknown = [name for name in names if name not in COLLECTORS]
    if unknown:
        raise ValueError(f"unknown collector(s) {unknown}; valid: {', '.join(COLLECTORS)}")
    return [COLLECTORS[name](paths) for name in names]
