"""load_spike: more work arrived (traffic, or a storm of new processes) and the node got busier."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

TRAFFIC = (
    "net.*.rx_bytes_per_s",
    "net.*.rx_packets_per_s",
    "net.recv*",
    "app.requests*",
    "app.*requests_per_s",
)
# A fork or thread storm: the work is new processes, not requests.
SPAWNED = ("processes.total", "processes.forks_per_s", "load.threads", "proc.*.count")
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
        spawned = [d for d in view.matching(*SPAWNED) if d.z >= 3.0]
        if traffic is None and len(spawned) < 2:
            return None
        culprit = view.top_culprit("count", "tasks") if spawned else None
        signals = [*([traffic] if traffic else []), *spawned[:2], work]
        return finding(self.kind, view, signals, scale=0.8 if traffic else 1.0, culprit=culprit)
