"""Series an operator dismissed as false positives: (node, metric, direction), muted for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.models import RememberedIncident

Series = tuple[str, str, str]  # node_id, metric, "up" | "down"


class MuteBook:
    """Deviations that no longer open or grow incidents until their mute runs out.

    Parameters
    ----------
    mute_s
        How long a dismissed pattern stays muted after the dismissal.
    """

    def __init__(self, mute_s: float) -> None:
        self.mute_s = mute_s
        self._until: dict[Series, datetime] = {}

    def mute_incident(self, memory: RememberedIncident, at: datetime) -> list[Series]:
        """Mute every (node, metric, direction) of a dismissed incident from ``at``."""
        incident = memory.incident
        nodes = [incident.node_id] if incident.node_id else list(incident.affected_nodes)
        until = at + timedelta(seconds=self.mute_s)
        muted: list[Series] = [
            (node, deviation.metric, memory.directions.get(deviation.metric, "up"))
            for node in nodes
            for deviation in memory.deviations
        ]
        for series in muted:
            self._until[series] = max(until, self._until.get(series, until))
        return muted

    def is_muted(self, series: Series, at: datetime) -> bool:
        """Whether ``series`` is muted at ``at`` (an expired mute is forgotten)."""
        until = self._until.get(series)
        if until is not None and until <= at:
            del self._until[series]
            return False
        return until is not None

    def __len__(self) -> int:
        return len(self._until)
