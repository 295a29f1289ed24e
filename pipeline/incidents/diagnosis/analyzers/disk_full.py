"""disk_full: a file system filling towards its limit; culprit the mount point."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

FULL_PERCENT = 90.0  # most file systems reserve ~5 % for root; past 90 % writes start to fail


class DiskFull:
    """Used space (or inodes) of a mount rose and reached 90 %, or its free bytes fell away."""

    kind = "disk_full"
    explains: tuple[str, ...] = ("io_saturation", "process_crash", "app_errors")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        used = view.rising("disk.*.used_percent", "disk.*.inodes_used_percent", z_min=2.0)
        if used is None or used.window_max < FULL_PERCENT:
            return None
        mount = used.metric.split(".")[1]
        writer = view.rising("diskio.*.write_bytes_per_s")
        signals = [used, *([writer] if writer else [])]
        culprit = view.top_culprit("write_bytes_per_s") or mount
        return finding(self.kind, view, signals, scale=1.0, culprit=culprit) if culprit else None
