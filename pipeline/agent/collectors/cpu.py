"""CPU time by state (user, system, iowait, steal, ...) as percentages, from ``/proc/stat``."""

from __future__ import annotations

from pathlib import Path

from pipeline.agent.collectors.base import PROC_ROOT, SYS_ROOT, Collector, CounterRates, read_text

# Column order of the aggregate ``cpu`` line; guest time is already counted in user/nice.
STATES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


class CpuCollector(Collector):
    """``cpu.usage_<state>`` (percent of all CPUs), ``cpu.usage_active``, ``cpu.count``, rates."""

    name = "cpu"

    def __init__(self, proc_root: Path = PROC_ROOT, sys_root: Path = SYS_ROOT) -> None:
        super().__init__(proc_root, sys_root)
        self._last_ticks: tuple[float, ...] | None = None
        self._rates = CounterRates()

    def collect(self, now_s: float) -> dict[str, float]:
        """Percent of CPU time per state since the previous call."""
        text = read_text(self.proc_root / "stat")
        if text is None:
            return {}
        metrics: dict[str, float] = {}
        lines = text.splitlines()
        cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
        if cpus:
            metrics["cpu.count"] = float(cpus)
        for line in lines:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "cpu":
                metrics |= self._usage([float(v) for v in fields[1 : 1 + len(STATES)]])
            elif fields[0] == "ctxt":
                self._add_rate(metrics, "cpu.context_switches_per_s", float(fields[1]), now_s)
            elif fields[0] == "intr":
                self._add_rate(metrics, "cpu.interrupts_per_s", float(fields[1]), now_s)
            elif fields[0] == "procs_blocked":
                metrics["cpu.procs_blocked"] = float(fields[1])
        return metrics

    def _usage(self, ticks: list[float]) -> dict[str, float]:
        ticks_t = tuple(ticks + [0.0] * (len(STATES) - len(ticks)))
        last, self._last_ticks = self._last_ticks, ticks_t
        if last is None:
            return {}
        deltas = [now - before for now, before in zip(ticks_t, last, strict=True)]
        total = sum(deltas)
        if total <= 0 or min(deltas) < 0:  # a counter went back: reset, not a spike
            return {}
        usage = {f"cpu.usage_{s}": 100.0 * d / total for s, d in zip(STATES, deltas, strict=True)}
        idle = usage["cpu.usage_idle"] + usage["cpu.usage_iowait"]
        usage["cpu.usage_active"] = 100.0 - idle
        return usage

    def _add_rate(self, metrics: dict[str, float], name: str, value: float, now_s: float) -> None:
        rate = self._rates.rate(name, value, now_s)
        if rate is not None:
            metrics[name] = rate
