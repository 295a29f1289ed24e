"""cpu_saturation: CPU busy near its limit, or tasks stalling for CPU; culprit the top CPU user."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding, level_confidence
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.signature import Deviation

# USE method: past 80 % busy, run queues grow faster than the CPU clears them. Saturation is a
# level, so a noisy baseline only needs to be left by one sigma (the level says the rest).
BUSY_PERCENT = 80.0
Z_LEFT_BASELINE = 1.0


class CpuSaturation:
    """CPU busy (100 - idle, or active) past 80 %, or CPU stall (PSI, throttling, steal) rose."""

    kind = "cpu_saturation"
    explains: tuple[str, ...] = ()

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        busy = _busy(view)
        # PSI, cgroup throttling (cpu.max) and steal: the CPU is short even if not busy here.
        stall = view.rising("pressure.cpu.*", "unit.*.throttled_percent", "cpu.usage_steal")
        if busy is None and stall is None:
            return None
        support = [d for d in (stall, view.rising("load.load1", "load.runnable")) if d]
        signals = [busy, *support] if busy else support
        # A throttled unit is the one hitting its own cpu.max; otherwise the top CPU grower.
        culprit = view.top_culprit("throttled_percent", "cpu_percent")
        base = level_confidence(_busy_percent(view, busy), BUSY_PERCENT) if busy else None
        return finding(self.kind, view, signals, culprit=culprit, base=base)


def _busy(view: NodeView) -> Deviation | None:
    idle = view.falling("cpu.usage_idle", z_min=Z_LEFT_BASELINE)
    if idle is not None and _busy_percent(view, idle) >= BUSY_PERCENT:
        return idle
    active = view.rising("cpu.usage_active", z_min=Z_LEFT_BASELINE)
    return active if active is not None and active.window_mean >= BUSY_PERCENT else None


def _busy_percent(view: NodeView, d: Deviation) -> float:
    """Busy share of the CPU; time idle waiting on I/O is not CPU work (io_saturation's)."""
    if not d.metric.endswith("idle"):
        return d.window_mean
    iowait = view.deviations.get("cpu.usage_iowait")
    return 100.0 - d.window_mean - (iowait.window_mean if iowait else 0.0)
