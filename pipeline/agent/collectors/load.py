"""Load averages and runnable/total threads, from ``/proc/loadavg``."""

from __future__ import annotations

from pipeline.agent.collectors.base import Collector, read_text


class LoadCollector(Collector):
    """``load.load1``, ``load.load5``, ``load.load15``, ``load.runnable``, ``load.threads``."""

    name = "load"

    def collect(self, now_s: float) -> dict[str, float]:
        """Read the load averages (gauges, no state)."""
        text = read_text(self.proc_root / "loadavg")
        if text is None:
            return {}
        fields = text.split()
        if len(fields) < 4 or "/" not in fields[3]:
            return {}
        runnable, threads = fields[3].split("/", 1)
        return {
            "load.load1": float(fields[0]),
            "load.load5": float(fields[1]),
            "load.load15": float(fields[2]),
            "load.runnable": float(runnable),
            "load.threads": float(threads),
        }
