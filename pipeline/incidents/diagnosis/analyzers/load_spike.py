"""load_spike: more work arrived (traffic, or a storm of new processes) and the node got busier."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Z_NOTICED, Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.signature import Deviation

TRAFFIC = (
    "net.*.rx_bytes_per_s",
    "net.*.rx_packets_per_s",
    "net.recv*",
    "app.requests*",
    "app.*requests_per_s",
)
# A fork or thread storm: the work is new processes, not requests.
SPAWNED = ("processes.total", "processes.forks_per_s", "load.threads", "proc.*.count")
# A storm is more new tasks than the host has CPUs to run them (fewer cannot, on their own, keep
# every CPU busy) and a large part of what ran before. A count that sat still is many sigmas off
# after one more process (a cron job, a test broker): that is no storm, and it must not take a
# CPU hog's diagnosis from the process that took the CPU.
STORM_GROWTH_SHARE = 0.5
WORK = ("cpu.usage_user", "cpu.usage_active", "cpu.usage_system", "load.load1", "load.runnable")


class LoadSpike:
    """Inbound traffic, or processes and threads, rose together with CPU use or load.

    Weighed below the resource analyzers (scale 0.8) unless the node was flooded with new
    processes; it explains the CPU saturation it causes (see ``explains``).
    """

    kind = "load_spike"
    explains: tuple[str, ...] = ("cpu_saturation", "memory_pressure", "app_errors")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        work = view.rising(*WORK)
        if work is None:
            return None
        traffic = view.rising(*TRAFFIC)
        spawned = _spawned(view)
        if traffic is None and len(spawned) < 2:
            return None
        culprit = view.top_culprit("count", "tasks") if spawned else None
        signals = [*([traffic] if traffic else []), *spawned[:2], work]
        return finding(self.kind, view, signals, scale=0.8 if traffic else 1.0, culprit=culprit)


def _spawned(view: NodeView) -> list[Deviation]:
    """Task counts that stormed: rose past noise by more than the CPUs and by half their level."""
    cpus = view.deviations.get("cpu.count")
    least = max(cpus.window_mean if cpus else 1.0, 1.0)
    return [
        d
        for d in view.matching(*SPAWNED)
        if d.z >= Z_NOTICED
        and d.window_mean - d.before_mean >= max(least, STORM_GROWTH_SHARE * d.before_mean)
    ]
