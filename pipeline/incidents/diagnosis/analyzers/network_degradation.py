"""network_degradation: packets lost, dropped or retransmitted, or latency up on the wire."""

from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.signature import Deviation

LOSS = (
    "net.tcp_retrans*",
    "net.*.rx_drops_per_s",
    "net.*.tx_drops_per_s",
    "net.*errors_per_s",
    "net.*latency*",
    "net.*rtt*",
)
RETRANS_SHARE = "net.tcp_retrans_percent"
# Retransmits are judged by their share of the segments sent, not by sigmas alone: a healthy
# stack idles near 0 with almost no spread, so a handful of retransmits on a busy loopback
# (0 -> 0.03 /s, under 0.01 % of the segments) reads as z = 100. Healthy links retransmit well
# under 0.1 %, and 1 % is where operators' guides start to worry (TCP throughput falls with the
# square root of the loss rate); half of that names a degradation while it builds.
MATERIAL_RETRANS_PERCENT = 0.5


class NetworkDegradation:
    """Retransmissions, drops, errors or round-trip time rose on the node's network."""

    kind = "network_degradation"
    explains: tuple[str, ...] = ("app_errors",)

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        signals = [d for d in view.matching(*LOSS) if d.z >= 3.0 and _material(view, d)]
        if not signals:
            return None
        # net.<interface>.<field> names the interface; net.tcp_* is the whole node's stack.
        interfaces = [d.metric.split(".")[1] for d in signals if d.metric.count(".") == 2]
        return finding(self.kind, view, signals, culprit=interfaces[0] if interfaces else None)


def _material(view: NodeView, d: Deviation) -> bool:
    """Whether ``d`` is loss that matters: retransmits need their share of the segments sent.

    Without the share (an agent or data set that does not report it), sigmas decide alone.
    """
    if not d.metric.startswith("net.tcp_retrans") or RETRANS_SHARE not in view.node.series:
        return True
    share, _ = view.since_onset(d, RETRANS_SHARE)  # from the retransmits' onset, as they rose
    finite = share[np.isfinite(share)]
    return finite.size > 0 and float(finite.mean()) >= MATERIAL_RETRANS_PERCENT
