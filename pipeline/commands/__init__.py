"""Commands of each stage: each module has ``register(cli, bench)`` and imports lazily."""

from __future__ import annotations

from types import ModuleType

COMMAND_MODULES: tuple[ModuleType, ...] = ()
