"""Stop saving node models the moment a rebalance starts, before their partitions move elsewhere."""

from __future__ import annotations

import time
from typing import Any

import faust

from pipeline.stream.checkpoint import Checkpoints
from pipeline.stream.meters import Meters


class RebalanceSensor(faust.Sensor):
    """Faust calls sensors synchronously as soon as partitions are revoked: the earliest hook.

    From here until the rebalance ends no save happens, so a late save can never overwrite the
    new owner's. The hook runs in Faust's consumer thread, so it only flips a flag.
    """

    def __init__(self, checkpoints: Checkpoints, meters: Meters, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checkpoints = checkpoints
        self.meters = meters

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        """Freeze saving."""
        self.meters.rebalance_started(time.time())
        state = super().on_rebalance_start(app)
        self.checkpoints.freeze()
        return state

    def on_rebalance_end(self, app: Any, state: dict[str, Any]) -> None:
        """Saving resumes with the new assignment (the worker is ready: recovery is done)."""
        super().on_rebalance_end(app, state)
        self.checkpoints.thaw()
        self.meters.rebalance_ended(time.time())
