"""Every exception fleetwatch raises on purpose."""

from __future__ import annotations

__all__ = [
    "ActionFailed",
    "ActionRefused",
    "ConfigError",
    "FleetwatchError",
    "InvalidMessage",
    "QueryError",
    "RunbookError",
    "SinkBackpressure",
    "SinkUnavailable",
    "StackError",
]


class FleetwatchError(Exception):
    """Root of every domain failure; the CLI prints it as a one-line reason."""


class ConfigError(FleetwatchError):
    """A setting is missing or invalid; the message names the value and the valid options."""


class InvalidMessage(FleetwatchError):
    """A message could not be decoded or validated; it belongs in the dead-letter topic."""

    def __init__(self, reason: str, raw: bytes) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class SinkUnavailable(FleetwatchError):
    """A downstream server refused or did not answer; retry after ``retry_after_s`` seconds."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SinkBackpressure(FleetwatchError):
    """A sink takes nothing now: its writer works but lags; add again after ``retry_after_s``.

    Raised by ``Sink.add_many`` before it takes any item, so the caller keeps the items (and, in
    the stream, Kafka keeps the backlog) instead of a full buffer dropping them.
    """

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ActionRefused(FleetwatchError):
    """An action was refused by policy (allowlist, rate limit, signature, blast radius)."""


class ActionFailed(FleetwatchError):
    """An allowed action was attempted and did not complete (exit status, timeout, I/O)."""


class RunbookError(FleetwatchError):
    """A runbook is malformed; ``problems`` holds one ``FILE:LINE: field: message`` per fault."""

    def __init__(self, problems: list[str]) -> None:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


class CaseError(FleetwatchError):
    """An incident case directory is malformed; the message names the file and what is wrong."""


class QueryError(FleetwatchError):
    """A query filter is invalid, or InfluxDB could not answer the query."""


class AskNotUnderstood(FleetwatchError):
    """A question ``ask`` could not turn into a query: what it understood, and why not."""

    def __init__(self, message: str, understood: dict[str, str], suggestions: list[str]) -> None:
        super().__init__(message)
        self.understood = understood
        self.suggestions = suggestions


class StackError(FleetwatchError):
    """The local Kafka/InfluxDB stack could not be started, stopped or found."""
