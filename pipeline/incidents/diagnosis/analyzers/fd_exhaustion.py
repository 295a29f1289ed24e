"""fd_exhaustion: open file descriptors climbing towards their limit; culprit the holder."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

NEAR_LIMIT_PERCENT = 50.0  # fds are cheap; half the limit means a leak, not a busy day


class FdExhaustion:
    """Open fds (node-wide against the limit, or a process's) rose well past their usual level."""

    kind = "fd_exhaustion"
    explains: tuple[str, ...] = ("process_crash", "app_errors")

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        share = view.rising("processes.open_fds_percent", "proc.*.fd_limit_percent")
        per_process = view.rising("proc.*.open_fds")
        total = view.rising("processes.open_fds", "os.allocated_file_handlers")
        if share is not None and share.window_max < NEAR_LIMIT_PERCENT:
            share = None
        signals = [d for d in (share, per_process) if d is not None]
        if not signals:
            return None
        signals += [total] if total else []
        culprit = view.top_culprit("open_fds")
        return finding(self.kind, view, signals, culprit=culprit)
