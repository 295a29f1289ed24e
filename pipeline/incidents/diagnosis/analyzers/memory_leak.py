"""memory_leak: memory use climbing steadily through the window; culprit the growing process."""

from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

# A leak grows without giving memory back: the window's values follow time almost monotonically.
MIN_TREND_CORRELATION = 0.8
MEMORY_USED = (
    "mem.used_percent",
    "mem.used_bytes",
    "proc.*.rss_bytes",
    "unit.*.memory_bytes",
)


class MemoryLeak:
    """Memory used rose, and rose steadily in time (not one jump): something keeps allocating."""

    kind = "memory_leak"
    explains: tuple[str, ...] = ("memory_pressure", "process_crash", "app_errors")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        rising = [d for d in view.matching(*MEMORY_USED) if d.z >= 3.0]
        available = view.falling("mem.available_bytes")
        steady = [
            d
            for d in [*rising, *([available] if available else [])]
            if abs(_trend(view, d.metric)) >= MIN_TREND_CORRELATION
        ]
        if not steady:
            return None
        culprit = view.top_culprit("rss_bytes", "memory_bytes")
        return finding(self.kind, view, steady, culprit=culprit)


def _trend(view: NodeView, metric: str) -> float:
    """Correlation of the window's values with time (0 when flat or too short)."""
    values = view.node.series[metric][view.node.in_window]
    times = view.node.times_s[view.node.in_window]
    keep = np.isfinite(values)
    if keep.sum() < 5 or float(np.std(values[keep])) == 0.0:
        return 0.0
    return float(np.corrcoef(times[keep], values[keep])[0, 1])
