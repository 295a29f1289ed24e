"""Network interface rates (``net.<iface>.*``) and TCP retransmits, from ``/proc/net``."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.agent.collectors.base import (
    MAX_INSTANCES,
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    CounterRates,
    instance_name,
    read_text,
)

# Loopback and per-container virtual ends: hundreds of them on a Kubernetes node, all noise.
IGNORED_INTERFACES = re.compile(r"^(lo|veth.*|cali.*|lxc.*)$")
# Columns of /proc/net/dev after the interface name, and the ones we turn into rates.
DEV_FIELDS = {
    0: "rx_bytes_per_s",
    1: "rx_packets_per_s",
    2: "rx_errors_per_s",
    3: "rx_drops_per_s",
    8: "tx_bytes_per_s",
    9: "tx_packets_per_s",
    10: "tx_errors_per_s",
    11: "tx_drops_per_s",
}


class NetCollector(Collector):
    """Per-interface byte/packet/error/drop rates, TCP retransmits and established connections.

    Reads the network namespace of ``proc_root/net``: run with ``hostNetwork`` in a container.
    """

    name = "net"

    def __init__(self, proc_root: Path = PROC_ROOT, sys_root: Path = SYS_ROOT) -> None:
        super().__init__(proc_root, sys_root)
        self._rates = CounterRates()

    def collect(self, now_s: float) -> dict[str, float]:
        """Rates since the previous call for every interface that is not loopback/veth."""
        return self._interfaces(now_s) | self._tcp(now_s)

    def _interfaces(self, now_s: float) -> dict[str, float]:
        text = read_text(self.proc_root / "net" / "dev")
        if text is None:
            return {}
        metrics: dict[str, float] = {}
        seen: set[str] = set()
        for line in text.splitlines()[2:]:  # two header lines
            name, _, rest = line.partition(":")
            name = name.strip()
            values = rest.split()
            if IGNORED_INTERFACES.match(name) or len(values) < 16 or len(seen) >= MAX_INSTANCES:
                continue
            seen.add(name)
            prefix = f"net.{instance_name(name)}"
            counters = {field: float(values[column]) for column, field in DEV_FIELDS.items()}
            for field, rate in self._rates.rate_group(name, counters, now_s).items():
                metrics[f"{prefix}.{field}"] = rate
        self._rates.retain(lambda key: key.split("|")[0] in seen or key.startswith("tcp|"))
        return metrics

    def _tcp(self, now_s: float) -> dict[str, float]:
        text = read_text(self.proc_root / "net" / "snmp")
        if text is None:
            return {}
        rows = [line.split() for line in text.splitlines() if line.startswith("Tcp:")]
        if len(rows) < 2:
            return {}
        tcp = dict(zip(rows[0][1:], (float(v) for v in rows[1][1:]), strict=False))
        metrics: dict[str, float] = {}
        if "CurrEstab" in tcp:
            metrics["net.tcp_established"] = tcp["CurrEstab"]
        counters = {name: tcp.get(name, 0.0) for name in ("RetransSegs", "OutSegs")}
        rates = self._rates.rate_group("tcp", counters, now_s)
        if rates:
            metrics["net.tcp_retrans_segs_per_s"] = rates["RetransSegs"]
            if rates["OutSegs"]:
                percent = 100.0 * rates["RetransSegs"] / rates["OutSegs"]
                metrics["net.tcp_retrans_percent"] = min(100.0, percent)
        return metrics
