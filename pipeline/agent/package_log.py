"""New package installs and upgrades, read from the package manager's log as it grows.

Why the log and not ``/var/lib/dpkg/status``'s mtime: the log says which packages moved and to
which version (what an operator and the diagnosis need), its lines are appended (a tail is cheap
and needs no state beyond an offset), and it exists on both families: ``/var/log/dpkg.log``
(Debian, Ubuntu) and ``/var/log/dnf.rpm.log`` (Fedora, RHEL 8+). Lines already in the log when
the agent starts are history, not changes: reading starts at the end. A log that shrank was
rotated: reading restarts at its beginning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOGS = (Path("var/log/dpkg.log"), Path("var/log/dnf.rpm.log"))
# 2026-11-30 06:00:01 upgrade openssl:amd64 3.0.2-0ubuntu1.10 3.0.2-0ubuntu1.12
DPKG = re.compile(r"^\S+ \S+ (install|upgrade) (\S+?)(?::\S+)? (\S+) (\S+)\s*$")
# 2026-11-30T06:00:01+0000 SUBDEBUG Upgrade: openssl-1:3.0.7-27.el9.x86_64
DNF = re.compile(r"^\S+ \S+ (Installed|Upgrade|Upgraded|Install): (\S+?)-(\d\S*)\s*$")
MAX_READ_BYTES = 1024 * 1024  # per poll: a mass upgrade is summarised, not read whole


@dataclass(frozen=True)
class PackageMove:
    """One package installed or upgraded to ``version``."""

    action: str
    package: str
    version: str


def parse_line(line: str) -> PackageMove | None:
    """A dpkg.log or dnf.rpm.log line → the move it records, or None.

    Examples
    --------
    >>> parse_line("2026-11-30 06:00:01 upgrade openssl:amd64 3.0.2-1.10 3.0.2-1.12")
    PackageMove(action='upgrade', package='openssl', version='3.0.2-1.12')
    >>> parse_line("2026-11-30T06:00:01+0000 SUBDEBUG Upgrade: openssl-1:3.0.7-27.el9.x86_64")
    PackageMove(action='upgrade', package='openssl', version='1:3.0.7-27.el9.x86_64')
    >>> parse_line("2026-11-30 06:00:01 status half-configured openssl:amd64 3.0.2") is None
    True
    """
    found = DPKG.match(line)
    if found:
        return PackageMove(found.group(1), found.group(2), found.group(4))
    found = DNF.match(line)
    if found:
        action = "install" if found.group(1).startswith("Install") else "upgrade"
        return PackageMove(action, found.group(2), found.group(3))
    return None


class PackageLog:
    """Tails the package logs under ``rootfs``; ``poll()`` returns the moves since the last call."""

    def __init__(self, rootfs: Path = Path("/")) -> None:
        self.rootfs = Path(rootfs)
        self._offsets: dict[Path, int] = {}

    def poll(self) -> list[PackageMove]:
        """Moves appended to any log since the previous poll (none on the first)."""
        moves: list[PackageMove] = []
        for relative in LOGS:
            moves += self._tail(self.rootfs / relative)
        return moves

    def _tail(self, path: Path) -> list[PackageMove]:
        try:
            size = path.stat().st_size
        except OSError:
            return []
        start = self._offsets.get(path)
        self._offsets[path] = size
        if start is None or start == size:
            return []
        start = 0 if size < start else start  # rotated (or truncated): read the new file
        try:
            with path.open("rb") as log_file:
                log_file.seek(start)
                text = log_file.read(min(size - start, MAX_READ_BYTES)).decode(errors="replace")
        except OSError:
            return []
        return [move for line in text.splitlines() if (move := parse_line(line)) is not None]
