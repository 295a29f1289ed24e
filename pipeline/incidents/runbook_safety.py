"""Refuse runbook rules that could fire in the wrong direction (``fleetwatch runbooks check``).

An action that lowers use (stop a process, clean files, restart, limit, drop caches) helps only
when use went up. A metric rule must therefore say its direction, and that direction must mean
"more use" for every metric its glob can match: ``cpu.usage_user`` up, or ``cpu.usage_idle``
down, but never ``cpu.*`` (which holds both) and never ``cpu.usage_user down``.

An action on a systemd unit must name the unit: ``{unit}`` (the unit that owns the culprit) or a
fixed name, never one built from ``{culprit}``, which is a process name (``gunicorn`` runs in
``api.service``; ``gunicorn.service`` does not exist, or is another service).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from pipeline.control.catalogue import CATALOGUE

# Metrics that measure headroom (more is better): their "more use" direction is down.
HEADROOM_WORDS = re.compile(r"idle|avail|free")
HEADROOM_EXAMPLES = (
    "cpu.usage_idle",
    "mem.available_bytes",
    "mem.free_bytes",
    "disk.root.free_bytes",
    "disk.data.free_bytes",
)
USE_EXAMPLES = (
    "cpu.usage_user",
    "cpu.usage_active",
    "mem.used_percent",
    "disk.root.used_percent",
    "diskio.sda.busy_percent",
    "net.tcp_retrans_percent",
    "processes.open_fds_percent",
    "load.load1",
)


def direction_problems(rule: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    """(field path within the rule, message) for each way ``rule`` could fire wrongly."""
    if not isinstance(rule, dict):
        return
    action, match = rule.get("action"), rule.get("match") or {}
    spec = CATALOGUE.get(str(action.get("type"))) if isinstance(action, dict) else None
    if spec is None or not spec.lowers_use or not isinstance(match, dict):
        return
    if match.get("diagnosis") is not None:
        return  # chosen by a diagnosed kind, whose analyzers already judged the direction
    glob, direction = str(match.get("metric", "*")), match.get("direction")
    headroom, use = _kinds_matched(glob)
    if headroom and use:
        yield (
            ("match", "metric"),
            (
                f"{glob!r} matches both use and headroom metrics, so one direction is wrong for "
                f"{spec.name}; narrow the glob or match on diagnosis"
            ),
        )
    elif direction is None:
        yield (
            ("match",),
            (
                f"{spec.name} lowers use: say direction ({_wanted(headroom)} for {glob!r}) or "
                "match on diagnosis, so a metric moving the other way never picks it"
            ),
        )
    elif direction != _wanted(headroom):
        yield (
            ("match", "direction"),
            (
                f"{spec.name} lowers use, but {glob!r} {direction} means less use; "
                f"it would act when nothing is over-used (want {_wanted(headroom)})"
            ),
        )


def unit_problems(rule: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    """(field path, message) when ``rule``'s action builds a unit name from ``{culprit}``."""
    action = rule.get("action") if isinstance(rule, dict) else None
    params = action.get("params") if isinstance(action, dict) else None
    unit = params.get("unit") if isinstance(params, dict) else None
    if isinstance(unit, str) and "{culprit}" in unit:
        yield (
            ("action", "params", "unit"),
            (
                f"{unit!r} makes a unit name from the culprit process's name; use '{{unit}}', "
                "the unit that owns the culprit (a rule without one does not match)"
            ),
        )


def _kinds_matched(glob: str) -> tuple[bool, bool]:
    headroom = bool(HEADROOM_WORDS.search(glob)) or any(
        fnmatch.fnmatchcase(m, glob) for m in HEADROOM_EXAMPLES
    )
    use = any(fnmatch.fnmatchcase(m, glob) for m in USE_EXAMPLES) or not headroom
    return headroom, use


def _wanted(headroom: bool) -> str:
    return "down" if headroom else "up"
