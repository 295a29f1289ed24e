"""systemd units' cgroup v2 figures: CPU, throttling, memory, OOM kills, restarts (``unit.*``).

Metric names (instance = the unit name without ``.service`` through ``instance_name``, e.g.
``nginx``, ``getty_tty1``):

- ``unit.<unit>.cpu_percent``: ``cpu.stat usage_usec`` since the previous round, % of ONE core.
- ``unit.<unit>.throttled_percent``: share of the CFS enforcement periods in which the unit was
  throttled by its ``cpu.max`` (``nr_throttled / nr_periods`` between rounds); 0 when it ran
  without hitting its quota. Only units with a quota have it.
- ``unit.<unit>.memory_bytes``: ``memory.current``.
- ``unit.<unit>.memory_limit_percent``: ``memory.current`` against ``memory.max`` (if limited).
- ``unit.<unit>.oom_kills_per_s``: ``memory.events oom_kill`` since the previous round.
- ``unit.<unit>.tasks``: ``pids.current`` (processes and threads).
- ``unit.<unit>.restarts_per_s``: restarts the agent saw since the previous round: none of the
  processes it last saw in the unit (``cgroup.procs``) is left and new ones run. That counts a
  unit that was down while we looked, and not a master that recycles its workers. A unit that
  restarts several times between two rounds counts once.

Units are the ``*.service`` cgroups under ``system.slice`` (and slices inside it) of the cgroup v2
hierarchy (``<sys_root>/fs/cgroup``, or ``fs/cgroup/unified`` on hybrid hosts). Reported: the
``top_n`` by CPU and by memory, plus any unit that restarted, was OOM-killed or throttled this
round, each held for ``hold_rounds`` rounds (:class:`StickyTop`). ``restarted_units`` lists the
units that restarted in the last round (the agent reports them as change events).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from pipeline.agent.collectors.base import (
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    CounterRates,
    instance_name,
    key_values,
    read_number,
    read_text,
)
from pipeline.agent.collectors.ranking import StickyTop

UNIT_GLOBS = ("system.slice/*.service", "system.slice/*.slice/*.service")
RANK_KEYS = ("cpu_percent", "memory_bytes")
REMEMBERED_UNITS = 4096  # pids of units seen, so a unit down while we looked still counts
REMEMBERED_PIDS = 64  # per unit: enough to tell a restart from workers being recycled


class UnitCollector(Collector):
    """``unit.<unit>.cpu_percent|throttled_percent|memory_bytes|oom_kills_per_s|tasks|...``.

    Parameters
    ----------
    top_n
        Units entering per ranking (CPU, memory) and round.
    hold_rounds
        Rounds a unit stays reported after it last ranked or misbehaved.
    """

    name = "units"

    def __init__(
        self,
        proc_root: Path = PROC_ROOT,
        sys_root: Path = SYS_ROOT,
        top_n: int = 5,
        hold_rounds: int = 30,
    ) -> None:
        super().__init__(proc_root, sys_root)
        self.top_n = top_n
        self.hold_rounds = hold_rounds
        self.restarted_units: list[str] = []
        self._rates = CounterRates()
        self._top = StickyTop(top_n, hold_rounds)
        self._pids: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._restarts: dict[str, float] = {}

    def collect(self, now_s: float) -> dict[str, float]:
        """Figures of the reported units this round."""
        root = self._hierarchy()
        if root is None:
            return {}
        figures: dict[str, dict[str, float]] = {}
        for unit, path in self._units(root).items():
            figures[instance_name(unit.removesuffix(".service"))] = self._one(unit, path, now_s)
        self._rates.retain(lambda key: key.split("|")[0] in figures)
        noisy = [n for n, f in figures.items() if _misbehaves(f)]
        chosen = self._top.select(figures, RANK_KEYS, always=noisy)
        return {f"unit.{n}.{field}": v for n in chosen for field, v in figures[n].items()}

    def _hierarchy(self) -> Path | None:
        cgroup = self.sys_root / "fs" / "cgroup"
        for candidate in (cgroup, cgroup / "unified"):
            if (candidate / "cgroup.procs").exists() and (candidate / "system.slice").is_dir():
                return candidate
        return None

    def _units(self, root: Path) -> dict[str, Path]:
        units = {path.name: path for pattern in UNIT_GLOBS for path in sorted(root.glob(pattern))}
        self.restarted_units = [unit for unit, path in units.items() if self._restarted(unit, path)]
        return units

    def _restarted(self, unit: str, path: Path) -> bool:
        listed = [p for p in (read_text(path / "cgroup.procs") or "").split() if p.isdigit()]
        pids = frozenset(sorted(listed, key=int)[:REMEMBERED_PIDS])
        if not pids:
            return False  # stopping or between restarts: judged when processes are back
        before = self._pids.pop(unit, None)
        self._pids[unit] = pids
        while len(self._pids) > REMEMBERED_UNITS:
            self._pids.popitem(last=False)
        if before is not None and not before & pids:
            self._restarts[unit] = self._restarts.get(unit, 0.0) + 1
            return True
        return False

    def _one(self, unit: str, path: Path, now_s: float) -> dict[str, float]:
        name = instance_name(unit.removesuffix(".service"))
        figures = self._cpu(name, path, now_s) | self._memory(name, path, now_s)
        tasks = read_number(path / "pids.current")
        if tasks is not None:
            figures["tasks"] = tasks
        restarts = self._rates.rate(f"{name}|restarts", self._restarts.get(unit, 0.0), now_s)
        if restarts is not None:
            figures["restarts_per_s"] = restarts
        return figures

    def _cpu(self, name: str, path: Path, now_s: float) -> dict[str, float]:
        stat = key_values(read_text(path / "cpu.stat") or "")
        figures: dict[str, float] = {}
        if "usage_usec" in stat:
            rate = self._rates.rate(f"{name}|usage", stat["usage_usec"], now_s)
            if rate is not None:
                figures["cpu_percent"] = rate / 1e4  # µs of CPU per s → percent of one core
        if stat.get("nr_periods"):
            counters = {"periods": stat["nr_periods"], "throttled": stat.get("nr_throttled", 0.0)}
            rates = self._rates.rate_group(f"{name}|cfs", counters, now_s)
            if rates:
                share = rates["throttled"] / rates["periods"] if rates["periods"] else 0.0
                figures["throttled_percent"] = min(100.0, 100.0 * share)
        return figures

    def _memory(self, name: str, path: Path, now_s: float) -> dict[str, float]:
        figures: dict[str, float] = {}
        current = read_number(path / "memory.current")
        if current is not None:
            figures["memory_bytes"] = current
            limit = read_number(path / "memory.max")  # "max" (no limit) reads as None
            if limit:
                figures["memory_limit_percent"] = min(100.0, 100.0 * current / limit)
        events = key_values(read_text(path / "memory.events") or "")
        if "oom_kill" in events:
            rate = self._rates.rate(f"{name}|oom_kill", events["oom_kill"], now_s)
            if rate is not None:
                figures["oom_kills_per_s"] = rate
        return figures


def _misbehaves(figures: dict[str, float]) -> bool:
    """Restarted, OOM-killed or throttled this round: reported even when not in the top."""
    return any(figures.get(f, 0.0) > 0 for f in ("restarts_per_s", "oom_kills_per_s")) or (
        figures.get("throttled_percent", 0.0) > 0
    )
