"""disk_full: a file system filling towards its limit; culprit the mount point."""

from __future__ import annotations

import math

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

FULL_PERCENT = 90.0  # most file systems reserve ~5 % for root; past 90 % writes start to fail
# Filling so fast it is full within 4 hours at the window's rate: full before a human could act on
# a page, so already the fault (node-exporter's NodeFilesystemSpaceFillingUp critical horizon).
FULL_WITHIN_S = 4 * 3600.0


class DiskFull:
    """Used space (or inodes) of a mount rose and reached 90 %, or will within 4 hours."""

    kind = "disk_full"
    explains: tuple[str, ...] = ("io_saturation", "process_crash", "app_errors")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        used = view.rising("disk.*.used_percent", "disk.*.inodes_used_percent", z_min=2.0)
        if used is None:
            return None
        if used.window_max < FULL_PERCENT and _full_in_s(view, used.metric) > FULL_WITHIN_S:
            return None
        mount = used.metric.split(".")[1]
        writer = view.rising("diskio.*.write_bytes_per_s")
        signals = [used, *([writer] if writer else [])]
        culprit = view.top_culprit("write_bytes_per_s") or mount
        return finding(self.kind, view, signals, scale=1.0, culprit=culprit) if culprit else None


def _full_in_s(view: NodeView, metric: str) -> float:
    """Seconds until ``metric`` (a used percent) reaches 100 at the window's linear rate."""
    values = view.node.series[metric][view.node.in_window]
    times = view.node.times_s[view.node.in_window]
    keep = np.isfinite(values)
    if keep.sum() < 3:
        return math.inf
    slope_per_s = float(np.polyfit(times[keep], values[keep], 1)[0])
    if slope_per_s <= 0.0:
        return math.inf
    return (100.0 - float(values[keep][-1])) / slope_per_s
