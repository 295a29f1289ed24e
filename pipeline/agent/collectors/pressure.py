"""Pressure stall information (PSI) for cpu, memory and io, from ``/proc/pressure/*``."""

from __future__ import annotations

from pathlib import Path

from pipeline.agent.collectors.base import PROC_ROOT, SYS_ROOT, Collector, CounterRates, read_text

RESOURCES = ("cpu", "memory", "io")


class PressureCollector(Collector):
    """``pressure.<resource>.<some|full>_avg10`` / ``_avg60`` and ``_stall_percent``.

    ``_stall_percent`` is the share of wall time stalled since the previous call, computed from
    the ``total`` counter, so it covers exactly one sampling interval. Kernels without PSI
    (< 4.20, or ``psi=0``) and most containers have no ``/proc/pressure``: nothing is reported.
    """

    name = "pressure"

    def __init__(self, proc_root: Path = PROC_ROOT, sys_root: Path = SYS_ROOT) -> None:
        super().__init__(proc_root, sys_root)
        self._rates = CounterRates()

    def collect(self, now_s: float) -> dict[str, float]:
        """Averages and stall share per resource that has a pressure file."""
        metrics: dict[str, float] = {}
        for resource in RESOURCES:
            text = read_text(self.proc_root / "pressure" / resource)
            if text is not None:
                metrics |= self._one(resource, text, now_s)
        return metrics

    def _one(self, resource: str, text: str, now_s: float) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for line in text.splitlines():
            kind, _, rest = line.partition(" ")
            if kind not in ("some", "full"):
                continue
            values = dict(item.split("=", 1) for item in rest.split() if "=" in item)
            prefix = f"pressure.{resource}.{kind}"
            for window in ("avg10", "avg60"):
                if window in values:
                    metrics[f"{prefix}_{window}"] = float(values[window])
            if "total" in values:  # microseconds stalled
                rate = self._rates.rate(prefix, float(values["total"]), now_s)
                if rate is not None:
                    metrics[f"{prefix}_stall_percent"] = min(100.0, rate / 1e4)
        return metrics
