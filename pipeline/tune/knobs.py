"""The knobs tuning may touch, and where each one's current value is read under a root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Scope = Literal["sysctl", "cgroup", "systemd", "journald"]


@dataclass(frozen=True)
class Knob:
    """One setting: a sysctl, a cgroup v2 file of a unit, a unit property or a journald option."""

    scope: Scope
    name: str  # vm.swappiness, memory.high, MemoryHigh, SystemMaxUse

    def path(self, root: Path, unit: str | None) -> Path | None:
        """Where the current value lives under ``root`` (``/`` on the node), None if unknown."""
        if self.scope == "sysctl":
            return root / "proc" / "sys" / self.name.replace(".", "/")
        if self.scope == "cgroup" and unit:
            return root / "sys" / "fs" / "cgroup" / "system.slice" / unit / self.name
        if self.scope == "journald":
            return root / "etc" / "systemd" / "journald.conf"
        return None  # systemd properties: `systemctl show`, not a file


def read_current(knob: Knob, root: Path, unit: str | None) -> str | None:
    """The knob's current value read under ``root``, None when absent or unreadable."""
    path = knob.path(root, unit)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if knob.scope == "journald":
        return _ini_value(text, knob.name)
    return " ".join(text.split()) or None


def _ini_value(text: str, key: str) -> str | None:
    """``Key=value`` from a systemd ini file, ignoring comments; the last one wins."""
    found = None
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith(("#", ";")) and name.strip() == key:
            found = value.strip()
    return found
