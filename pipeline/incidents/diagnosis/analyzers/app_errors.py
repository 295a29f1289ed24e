"""app_errors: the application reports more errors or slower answers while the OS looks fine."""

from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.base import Finding, NodeView, finding
from pipeline.incidents.diagnosis.evidence import Evidence

ERRORS = ("app.*error*", "app.*5xx*", "app.*fail*", "*.http_5xx*", "*.errors_per_s")


class AppErrors:
    """Application error counters rose (latency alone is a symptom of every other kind).

    Weighed low (scale 0.7): a resource fault also makes an application fail.
    """

    kind = "app_errors"
    explains: tuple[str, ...] = ()

    def analyze_one(self, evidence: Evidence, view: NodeView) -> Finding | None:
        """See the class docstring."""
        errors = [
            d for d in view.matching(*ERRORS) if d.z >= 3.0 and not d.metric.startswith("net.")
        ]
        if not errors:
            return None
        culprit = errors[0].metric.split(".")[1] if errors[0].metric.count(".") > 1 else None
        return finding(self.kind, view, errors, scale=0.7, culprit=culprit)
