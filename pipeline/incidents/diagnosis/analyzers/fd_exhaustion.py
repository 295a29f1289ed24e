"""fd_exhaustion: open file descriptors climbing towards their limit; culprit the holder."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Z_NOTICED, Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.signature import Deviation

NEAR_LIMIT_PERCENT = 50.0  # fds are cheap; half the limit means a leak, not a busy day
# One process's rise is a leak when it took a quarter of its own limit, or a thousand more fds
# (a limit too high to near): a service forking a worker doubles its 64 fds, which is neither.
PROCESS_LIMIT_PERCENT = 25.0
PROCESS_LEAK_FDS = 1000.0


class FdExhaustion:
    """Open fds (node-wide against the limit, or a process's) rose well past their usual level."""

    kind = "fd_exhaustion"
    explains: tuple[str, ...] = ("process_crash", "app_errors")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        share = view.rising("processes.open_fds_percent", "proc.*.fd_limit_percent")
        per_process = next((d for d in view.matching("proc.*.open_fds") if _leaks(view, d)), None)
        total = view.rising("processes.open_fds", "os.allocated_file_handlers")
        if share is not None and share.window_max < NEAR_LIMIT_PERCENT:
            share = None
        signals = [d for d in (share, per_process) if d is not None]
        if not signals:
            return None
        signals += [total] if total else []
        culprit = view.top_culprit("open_fds")
        return finding(self.kind, view, signals, culprit=culprit)


def _leaks(view: NodeView, d: Deviation) -> bool:
    """``d`` (one process's open fds) rose by a leak's amount, not by ordinary churn."""
    if d.z < Z_NOTICED:
        return False
    share = view.deviations.get(d.metric.removesuffix("open_fds") + "fd_limit_percent")
    near = share is not None and share.window_max >= PROCESS_LIMIT_PERCENT
    return near or d.window_max - d.before_mean >= PROCESS_LEAK_FDS
