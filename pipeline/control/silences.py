"""Maintenance silences (by node or by label), honoured by incidents and remediation alike."""

from __future__ import annotations

from datetime import datetime

from pipeline.models import OperatorCommand


class SilenceBook:
    """The silences currently known; ``active`` says which one (if any) covers a node."""

    def __init__(self) -> None:
        self._silences: dict[str, OperatorCommand] = {}

    def add(self, command: OperatorCommand) -> None:
        """Remember a (verified) silence command; other kinds are ignored."""
        if command.kind == "silence":
            self._silences[command.command_id] = command

    def active(
        self, node_id: str | None, labels: dict[str, str], now: datetime
    ) -> OperatorCommand | None:
        """The silence covering ``node_id``/``labels`` at ``now``, or None."""
        for silence in self._silences.values():
            if silence.until_at is None or silence.until_at <= now or silence.issued_at > now:
                continue
            if silence.node_id is not None and silence.node_id == node_id:
                return silence
            if silence.label is not None:
                key, _, value = silence.label.partition("=")
                if labels.get(key) == value:
                    return silence
        return None

    def __len__(self) -> int:
        return len(self._silences)
