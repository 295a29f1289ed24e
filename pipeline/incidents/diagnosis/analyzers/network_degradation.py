"""network_degradation: packets lost, dropped or retransmitted, or latency up on the wire."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

LOSS = (
    "net.tcp_retrans*",
    "net.*.rx_drops_per_s",
    "net.*.tx_drops_per_s",
    "net.*errors_per_s",
    "net.*latency*",
    "net.*rtt*",
)


class NetworkDegradation:
    """Retransmissions, drops, errors or round-trip time rose on the node's network."""

    kind = "network_degradation"
    explains: tuple[str, ...] = ("app_errors",)

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        signals = [d for d in view.matching(*LOSS) if d.z >= 3.0]
        if not signals:
            return None
        # net.<interface>.<field> names the interface; net.tcp_* is the whole node's stack.
        interfaces = [d.metric.split(".")[1] for d in signals if d.metric.count(".") == 2]
        return finding(self.kind, view, signals, culprit=interfaces[0] if interfaces else None)
