"""Which instances a top-N collector reports: the N highest by each key, held for some rounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.agent.collectors.base import MAX_INSTANCES


class StickyTop:
    """Top-N instances by several keys, kept for ``hold_rounds`` after they last ranked.

    Each round, an instance enters when it is among the ``top_n`` highest of any key (CPU,
    memory, open files, ...). It then stays reported until it has ranked in none of them for
    ``hold_rounds`` rounds, so two processes trading places at rank N do not make both series
    start and stop every round. At most ``max_instances`` are reported; the most recently
    ranked win. Instances that vanished are dropped at once.

    Parameters
    ----------
    top_n
        How many instances enter per key and round.
    hold_rounds
        Rounds an instance stays after it last ranked.
    max_instances
        Hard bound on instances reported per round.

    Examples
    --------
    >>> top = StickyTop(top_n=1, hold_rounds=2)
    >>> top.select({"a": {"cpu": 9.0}, "b": {"cpu": 1.0}}, keys=("cpu",))
    ['a']
    >>> top.select({"a": {"cpu": 1.0}, "b": {"cpu": 9.0}}, keys=("cpu",))
    ['a', 'b']
    >>> top.select({"a": {"cpu": 1.0}, "b": {"cpu": 9.0}}, keys=("cpu",))
    ['a', 'b']
    >>> top.select({"a": {"cpu": 1.0}, "b": {"cpu": 9.0}}, keys=("cpu",))
    ['b']
    """

    def __init__(
        self, top_n: int = 5, hold_rounds: int = 30, max_instances: int = MAX_INSTANCES
    ) -> None:
        if top_n < 1 or hold_rounds < 0 or max_instances < 1:
            raise ValueError("top_n and max_instances must be >= 1, hold_rounds >= 0")
        self.top_n = top_n
        self.hold_rounds = hold_rounds
        self.max_instances = max_instances
        self._round = 0
        self._last_ranked: dict[str, int] = {}

    def select(
        self,
        candidates: Mapping[str, Mapping[str, float]],
        keys: Sequence[str],
        always: Sequence[str] = (),
    ) -> list[str]:
        """Names to report this round, sorted; ``always`` ranks regardless of its figures."""
        self._round += 1
        for key in keys:
            ranked = sorted(candidates, key=lambda name: -candidates[name].get(key, 0.0))
            for name in ranked[: self.top_n]:
                if candidates[name].get(key, 0.0) > 0:
                    self._last_ranked[name] = self._round
        for name in always:
            if name in candidates:
                self._last_ranked[name] = self._round
        oldest = self._round - self.hold_rounds
        self._last_ranked = {
            name: last
            for name, last in self._last_ranked.items()
            if name in candidates and last >= oldest
        }
        newest = sorted(self._last_ranked, key=lambda name: (-self._last_ranked[name], name))
        return sorted(newest[: self.max_instances])
