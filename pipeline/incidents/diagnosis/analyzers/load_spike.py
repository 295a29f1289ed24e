"""load_spike: more work arrived: traffic and CPU rose together, nothing broke by itself."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

TRAFFIC = (
    "net.*.rx_bytes_per_s",
    "net.*.rx_packets_per_s",
    "net.recv*",
    "net.tcp_established",
    "app.requests*",
    "app.*requests_per_s",
)


class LoadSpike:
    """Inbound traffic or requests rose with CPU use: the node is busier because it is asked more.

    Weighed below the resource analyzers (scale 0.8): saturation under load is still saturation.
    """

    kind = "load_spike"

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        traffic = view.rising(*TRAFFIC)
        work = view.rising("cpu.usage_user", "cpu.usage_active", "load.load1")
        if traffic is None or work is None:
            return None
        return finding(self.kind, view, [traffic, work], scale=0.8)
