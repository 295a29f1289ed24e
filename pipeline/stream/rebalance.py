"""Save node models the moment a rebalance starts, before their partitions move elsewhere."""

from __future__ import annotations

import time
from typing import Any

import faust

from pipeline.stream.checkpoint import Checkpoints
from pipeline.stream.meters import Meters


class RebalanceSensor(faust.Sensor):
    """Faust calls sensors synchronously as soon as partitions are revoked: the earliest hook.

    Models saved here reach the changelog before the next owner recovers the table; until the
    rebalance ends no more saves happen, so a late save can never overwrite the new owner's.
    """

    def __init__(self, checkpoints: Checkpoints, meters: Meters, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checkpoints = checkpoints
        self.meters = meters

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        """Save every dirty node, then freeze saving."""
        self.meters.rebalance_started(time.time())
        state = super().on_rebalance_start(app)
        self.checkpoints.freeze()
        return state

    def on_rebalance_end(self, app: Any, state: dict[str, Any]) -> None:
        """Saving resumes with the new assignment (the worker is ready: recovery is done)."""
        super().on_rebalance_end(app, state)
        self.checkpoints.thaw()
        self.meters.rebalance_ended(time.time())
