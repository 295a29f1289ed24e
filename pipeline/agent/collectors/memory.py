"""Memory, swap, major faults and kernel OOM kills, from ``/proc/meminfo`` and ``/proc/vmstat``."""

from __future__ import annotations

from pathlib import Path

from pipeline.agent.collectors.base import (
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    CounterRates,
    key_values,
    read_text,
)

KIB = 1024.0
VMSTAT_RATES = (
    ("pgmajfault", "major_faults"),
    ("pswpin", "swap_in_pages"),
    ("oom_kill", "oom_kills"),
)


class MemoryCollector(Collector):
    """``mem.used_percent``, ``mem.available_bytes``, ``mem.swap_used_percent``, fault rates.

    ``mem.oom_kills_per_s`` counts the kernel OOM killer's kills (``/proc/vmstat oom_kill``,
    Linux >= 4.13), whichever cgroup they hit.
    """

    name = "mem"

    def __init__(self, proc_root: Path = PROC_ROOT, sys_root: Path = SYS_ROOT) -> None:
        super().__init__(proc_root, sys_root)
        self._rates = CounterRates()

    def collect(self, now_s: float) -> dict[str, float]:
        """Memory gauges and the major-fault rate since the previous call."""
        metrics: dict[str, float] = {}
        text = read_text(self.proc_root / "meminfo")
        if text is not None:
            metrics |= _memory(key_values(text))
        text = read_text(self.proc_root / "vmstat")
        if text is not None:
            vmstat = key_values(text)
            for counter, name in VMSTAT_RATES:
                if counter in vmstat:
                    rate = self._rates.rate(counter, vmstat[counter], now_s)
                    if rate is not None:
                        metrics[f"mem.{name}_per_s"] = rate
        return metrics


def _memory(info: dict[str, float]) -> dict[str, float]:
    total = info.get("MemTotal", 0.0)
    if total <= 0:
        return {}
    # MemAvailable exists since Linux 3.14; before that free + cache is the usual estimate.
    estimate = info.get("MemFree", 0.0) + info.get("Cached", 0.0) + info.get("Buffers", 0.0)
    available = info.get("MemAvailable", estimate)
    metrics = {
        "mem.total_bytes": total * KIB,
        "mem.available_bytes": available * KIB,
        "mem.used_percent": 100.0 * (total - available) / total,
    }
    swap_total = info.get("SwapTotal", 0.0)
    swap_used = swap_total - info.get("SwapFree", swap_total)
    metrics["mem.swap_used_bytes"] = swap_used * KIB
    metrics["mem.swap_used_percent"] = 100.0 * swap_used / swap_total if swap_total > 0 else 0.0
    return metrics
