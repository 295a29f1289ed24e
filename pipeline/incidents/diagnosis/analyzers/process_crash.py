"""process_crash: a service failed, restarted or was OOM-killed; culprit the unit."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence


class ProcessCrash:
    """Unit restarts or failed units rose, or a service's ``active`` state fell."""

    kind = "process_crash"
    explains: tuple[str, ...] = ("app_errors", "load_spike")  # a unit restarting in a loop forks

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        restarts = view.rising("unit.*.restarts_per_s", z_min=2.0)
        failed = view.rising("services.failed", z_min=2.0)
        down = view.falling("services.*.active", z_min=2.0)
        signals = [d for d in (restarts, down, failed) if d is not None]
        if not signals:
            return None
        named = restarts or down
        culprit = named.metric.split(".")[1] if named else None
        return finding(self.kind, view, signals, culprit=culprit)
