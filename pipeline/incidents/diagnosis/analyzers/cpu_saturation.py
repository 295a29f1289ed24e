"""cpu_saturation: CPU busy near its limit, or tasks stalling for CPU; culprit the top CPU user."""

from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import (
    Z_NOTICED,
    Finding,
    NodeView,
    finding,
    level_confidence,
)
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.signature import Deviation

# USE method: past 80 % busy, run queues grow faster than the CPU clears them. Saturation is a
# level, so a noisy baseline only needs to be left by one sigma (the level says the rest).
BUSY_PERCENT = 80.0
Z_LEFT_BASELINE = 1.0
# On a host that was saturated already, idle has no room left to fall: a process or unit that
# took a fifth of all the host's CPUs more than before, while it stayed busy, is the cause.
TAKEN_SHARE = 0.2
# A stall is a share of time (PSI, throttled periods, steal): rising from 0 to 0.5 % is many
# sigmas of a quiet baseline but no shortage; a tenth of the time stalled is.
STALL_PERCENT = 10.0


class CpuSaturation:
    """CPU busy past 80 %, a CPU stall past 10 %, or one consumer took much more of a busy host.

    Busy is 100 - idle (or active); a stall is PSI, cgroup throttling or steal; on a host that was
    busy already (idle had no room to fall), a process or unit taking a fifth of its CPUs more.
    """

    kind = "cpu_saturation"
    # A host out of CPU serves its network late: softirqs and readers fall behind, backlogs
    # overflow, peers time out and retransmit. Those losses are the saturation's, not the link's.
    explains: tuple[str, ...] = ("network_degradation",)

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        busy = _busy(view)
        taken = None if busy else _taken(view)
        # PSI, cgroup throttling (cpu.max) and steal: the CPU is short even if not busy here.
        stall = view.rising("pressure.cpu.*", "unit.*.throttled_percent", "cpu.usage_steal")
        stall = stall if stall is not None and stall.window_mean >= STALL_PERCENT else None
        if busy is None and taken is None and stall is None:
            return None
        support = [d for d in (stall, view.rising("load.load1", "load.runnable")) if d]
        lead = busy or taken
        signals = [lead, *support] if lead else support
        # A throttled unit is the one hitting its own cpu.max; otherwise the top CPU grower.
        culprit = view.top_culprit("throttled_percent", "cpu_percent")
        level = _busy_percent(view, busy or view.deviations["cpu.usage_idle"]) if lead else None
        base = level_confidence(level, BUSY_PERCENT) if level is not None else None
        return finding(self.kind, view, signals, culprit=culprit, base=base)


def _busy(view: NodeView) -> Deviation | None:
    idle = view.falling("cpu.usage_idle", z_min=Z_LEFT_BASELINE)
    if idle is not None and _busy_percent(view, idle) >= BUSY_PERCENT:
        return idle
    active = view.rising("cpu.usage_active", z_min=Z_LEFT_BASELINE)
    return active if active is not None and active.window_mean >= BUSY_PERCENT else None


def _taken(view: NodeView) -> Deviation | None:
    """The consumer whose CPU grew by ``TAKEN_SHARE`` of the host's, if the host stayed busy."""
    idle = view.deviations.get("cpu.usage_idle")
    cpus = view.deviations.get("cpu.count")
    # The largest rise in CPU, not in sigmas: a process going from 0 to 1 % is many sigmas too.
    rose = [
        d for d in view.matching("proc.*.cpu_percent", "unit.*.cpu_percent") if d.z >= Z_NOTICED
    ]
    grower = max(rose, key=lambda d: d.window_mean - d.before_mean, default=None)
    if idle is None or cpus is None or grower is None:
        return None
    taken = (_risen_to(view, grower) - grower.before_mean) / (100.0 * cpus.window_mean)
    return grower if taken >= TAKEN_SHARE and _busy_percent(view, idle) >= BUSY_PERCENT else None


def _risen_to(view: NodeView, d: Deviation) -> float:
    """Mean of ``d``'s metric from its onset on: the window may have opened before the fault."""
    values = view.since_onset(d)[0]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else d.window_mean


def _busy_percent(view: NodeView, d: Deviation) -> float:
    """Busy share of the CPU from ``d``'s onset on; time idle on I/O is not CPU work.

    From the onset, not over the window: an incident another deviation opened minutes before the
    CPU filled holds those idle minutes too, and a host busy at 98 % since the onset read 82 %.
    """
    level = _risen_to(view, d)
    if not d.metric.endswith("idle"):
        return level
    iowait = view.deviations.get("cpu.usage_iowait")
    return 100.0 - level - (iowait.window_mean if iowait else 0.0)
