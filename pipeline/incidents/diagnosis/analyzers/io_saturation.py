"""io_saturation: a block device busy nearly all the time, tasks waiting on I/O."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding, level_confidence
from pipeline.incidents.diagnosis.evidence import Evidence

# A device busy 90 % of the time queues requests; the CPU then waits on it (iowait, I/O PSI).
BUSY_PERCENT = 90.0
WAIT_PERCENT = 20.0
Z_LEFT_BASELINE = 1.0


class IoSaturation:
    """A device's busy time rose past 90 % while CPUs waited on I/O (iowait or I/O pressure)."""

    kind = "io_saturation"
    explains: tuple[str, ...] = ("app_errors",)

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        busy = view.rising("diskio.*busy_percent", "diskio.*util_percent", z_min=Z_LEFT_BASELINE)
        wait = view.rising("cpu.usage_iowait", z_min=Z_LEFT_BASELINE)
        stall = view.rising("pressure.io.*")
        if busy is None or busy.window_mean < BUSY_PERCENT:
            return None
        waiting = [d for d in (wait, stall) if d is not None]
        if stall is None and (wait is None or wait.window_mean < WAIT_PERCENT):
            return None
        culprit = view.top_culprit("io_bytes_per_s", "read_bytes_per_s", "write_bytes_per_s")
        base = level_confidence(busy.window_mean, BUSY_PERCENT)
        return finding(self.kind, view, [busy, *waiting], culprit=culprit, base=base)
