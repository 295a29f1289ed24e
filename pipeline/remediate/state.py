"""What a node must not forget across a restart: executed requests, rate window, approvals.

Kept as one JSON file per node under the state directory (``/var/lib/fleetwatch`` on a real node),
rewritten atomically (write, fsync, rename) after every change. An action's request id is saved
as executed *before* the action runs: a crash in between leaves it not run rather than run twice.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.models import RemediationRequest
from pipeline.remediate.limits import RateLimiter

# Executed and approved request ids are kept this long: far beyond any request's TTL, so a
# re-delivered request is recognised, and bounded so the file does not grow forever.
KEEP_IDS = timedelta(days=7)


class NodeState:
    """The node's remembered decisions, backed by ``path`` (None: memory only, for tests).

    Parameters
    ----------
    path
        The state file.
    rate
        The node's rate limiter, whose window is saved and restored.
    """

    def __init__(self, path: Path | None, rate: RateLimiter) -> None:
        self.path = path
        self.rate = rate
        self.pending: dict[str, RemediationRequest] = {}
        self.approved: dict[str, datetime] = {}
        self.executed: dict[str, datetime] = {}
        self.offsets: dict[str, int] = {}  # "topic:partition" → next offset to read

    def load(self, now: datetime) -> None:
        """Read what an earlier run saved (nothing when there is no file yet)."""
        if self.path is None or not self.path.exists():
            return
        data: dict[str, Any] = json.loads(self.path.read_text())
        horizon = now - KEEP_IDS
        self.executed = _recent(data.get("executed", {}), horizon)
        self.approved = _recent(data.get("approved", {}), horizon)
        self.pending = {
            request_id: RemediationRequest.model_validate(body)
            for request_id, body in data.get("pending", {}).items()
            if datetime.fromisoformat(body["expires_at"]) > now
        }
        self.rate.restore(data.get("rate", {}))
        self.offsets = {key: int(at) for key, at in data.get("offsets", {}).items()}

    def save(self) -> None:
        """Write the state atomically; a crash leaves the previous file or this one, whole."""
        if self.path is None:
            return
        body = {
            "executed": {k: at.isoformat() for k, at in self.executed.items()},
            "approved": {k: at.isoformat() for k, at in self.approved.items()},
            "pending": {k: r.model_dump(mode="json") for k, r in self.pending.items()},
            "rate": self.rate.snapshot(),
            "offsets": self.offsets,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        with partial.open("w") as handle:
            json.dump(body, handle)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(self.path)


def _recent(stamped: dict[str, str], horizon: datetime) -> dict[str, datetime]:
    parsed = {key: datetime.fromisoformat(at) for key, at in stamped.items()}
    return {key: at for key, at in parsed.items() if at > horizon}
