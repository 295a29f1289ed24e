"""memory_leak: memory use climbing steadily through the window; culprit the growing process."""

from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence, FloatArray
from pipeline.incidents.diagnosis.signature import Deviation

# A leak grows without giving memory back: the window's values follow time almost monotonically.
MIN_TREND_CORRELATION = 0.8
# Share of the climb memory must fall back by after its peak to count as released (a restart).
RELEASED_SHARE = 0.5
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
            if abs(_trend(view, d)) >= MIN_TREND_CORRELATION
        ]
        if not steady:
            return None
        culprit = view.top_culprit("rss_bytes", "memory_bytes")
        return finding(self.kind, view, steady, culprit=culprit)


def _trend(view: NodeView, d: Deviation) -> float:
    """Correlation with time of ``d``'s window values from its onset on (0: flat or too short).

    From the onset, not over the window: another deviation may have opened the incident long
    before the leak began, or the leak's own late events reopened an older one; its flat minutes
    before the climb say nothing against a leak (an incident opened 54 min before one read 0.6).
    A leak ends at once when its process is restarted or killed: memory falls back within a
    round, and the window holds the climb and the release. When the values after their extreme
    gave back at least half of the climb to it, the climb alone is judged.
    """
    values, times = view.since_onset(d)
    keep = np.isfinite(values)
    values, times = _until_released(values[keep], d.z < 0), times[keep]
    times = times[: values.size]
    if values.size < 5 or float(np.std(values)) == 0.0:
        return 0.0
    return float(np.corrcoef(times, values)[0, 1])


def _until_released(values: FloatArray, falling: bool) -> FloatArray:
    """``values`` up to their extreme if what followed it gave back half the climb, else all."""
    signed = -values if falling else values
    if signed.size < 2:
        return values
    peak = int(np.argmax(signed))
    climb = float(signed[peak] - signed[0])
    after = signed[peak + 1 :]
    if after.size and climb > 0 and float(signed[peak] - after.min()) >= RELEASED_SHARE * climb:
        return values[: peak + 1]
    return values
