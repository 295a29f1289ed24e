"""Commands of each stage: each module has ``register(cli, bench)`` and imports lazily."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import click

from pipeline.errors import FleetwatchError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    """Turn a FleetwatchError into ``fleetwatch: <reason>`` and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FleetwatchError as exc:
            click.echo(f"fleetwatch: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def stage_modules() -> tuple[ModuleType, ...]:
    """Every stage's command module.

    Imported here rather than at the top: the stage modules import ``one_line_errors`` from us.
    """
    modules: list[ModuleType] = []  # each stage appends its module below
    from pipeline.commands import query

    modules.append(query)
    from pipeline.commands import detect

    modules.append(detect)
    from pipeline.commands import remediate

    modules.append(remediate)
    from pipeline.commands import agent, simulate

    modules.append(agent)
    modules.append(simulate)
    from pipeline.commands import soak

    modules.append(soak)
    return tuple(modules)
