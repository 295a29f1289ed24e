"""memory_pressure: memory nearly full, swapping, faulting or OOM-killing, without a steady leak."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

FULL_PERCENT = 90.0  # above this the kernel reclaims hard: page cache shrinks, swap starts


class MemoryPressure:
    """Swap, major faults, memory PSI or OOM kills rose, or memory used went past 90 %."""

    kind = "memory_pressure"
    explains: tuple[str, ...] = ("process_crash", "app_errors", "io_saturation")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        signals = [
            d
            for d in (
                view.rising("mem.swap_used*", "mem.swap_in*", "mem.swap_out*", "os.*swap*"),
                view.rising("mem.major_faults_per_s"),
                view.rising("pressure.memory.*", "unit.*.memory_limit_percent"),
                view.rising("mem.oom_kills_per_s", "unit.*.oom_kills_per_s", z_min=2.0),
            )
            if d is not None
        ]
        used = view.rising("mem.used_percent")
        if used is not None and used.window_max >= FULL_PERCENT:
            signals.insert(0, used)
        if not signals:
            return None
        culprit = view.top_culprit("oom_kills_per_s", "memory_limit_percent", "rss_bytes")
        return finding(self.kind, view, signals, scale=0.9, culprit=culprit)
