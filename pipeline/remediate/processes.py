"""Find and stop processes through /proc, only those an allowlist names, never by PID alone.

A process is a candidate only if its command line or its command name (``comm``, what the agent
reports as ``proc.<comm>`` and a diagnosis names as the culprit) matches one of the operator's
allowlist regexes, it is not PID 1 or ourselves, and (unless we run as root) it is our own
user's. The signal goes through a pidfd when the kernel has them, so a recycled PID is never hit.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ActionRefused


@dataclass(frozen=True)
class ProcessInfo:
    """What /proc says about one process."""

    pid: int
    command: str
    uid: int
    start_ticks: int
    cpu_ticks: int
    rss_pages: int
    name: str = ""  # the command name (comm): ``nginx`` for "nginx: worker process"


def read_process(proc_root: Path, pid: int) -> ProcessInfo | None:
    """One process, or None when it is gone, a zombie, or unreadable."""
    base = proc_root / str(pid)
    try:
        stat = (base / "stat").read_text()
        raw_cmd = (base / "cmdline").read_bytes()
        uid = (base).stat().st_uid
        statm = (base / "statm").read_text().split()
    except (OSError, IndexError):
        return None
    # comm may contain spaces and parentheses: the fields after the last ')' are fixed.
    comm = stat[stat.find("(") + 1 : stat.rfind(")")]
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    command = " ".join(raw_cmd.replace(b"\0", b" ").decode(errors="replace").split()) or comm
    return ProcessInfo(
        pid=pid,
        command=command,
        uid=uid,
        start_ticks=int(fields[19]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
        rss_pages=int(statm[1]) if len(statm) > 1 else 0,
        name=comm,
    )


def candidates(proc_root: Path, allowlist: Sequence[str], pattern: str | None) -> list[ProcessInfo]:
    """Processes the allowlist permits and ``pattern`` (if any) matches."""
    if not allowlist:
        raise ActionRefused("process_allowlist is empty: no process may be stopped")
    allowed = [re.compile(regex) for regex in allowlist]
    wanted = re.compile(pattern) if pattern else None
    own = {1, os.getpid()}
    found = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit() or int(entry.name) in own:
            continue
        info = read_process(proc_root, int(entry.name))
        if info is None or not _may_touch(info):
            continue
        if any(_matches(r, info) for r in allowed) and (wanted is None or _matches(wanted, info)):
            found.append(info)
    return found


def _matches(regex: re.Pattern[str], info: ProcessInfo) -> bool:
    """The command line or the command name: a runbook's ``^{culprit}$`` names the latter."""
    return bool(regex.search(info.command) or (info.name and regex.search(info.name)))


def top_consumer(
    proc_root: Path, found: list[ProcessInfo], by: str, sample_s: float = 0.5
) -> ProcessInfo | None:
    """The process using most CPU (over ``sample_s``) or most resident memory."""
    if not found:
        return None
    if by == "memory":
        return max(found, key=lambda p: p.rss_pages)
    time.sleep(sample_s)
    later = {p.pid: read_process(proc_root, p.pid) for p in found}
    deltas = {
        p.pid: (now.cpu_ticks - p.cpu_ticks)
        for p in found
        if (now := later[p.pid]) is not None and now.start_ticks == p.start_ticks
    }
    if not deltas:
        return None
    best = max(deltas, key=lambda pid: deltas[pid])
    return next(p for p in found if p.pid == best)


def stop_many(proc_root: Path, targets: list[ProcessInfo], grace_s: float) -> list[int]:
    """SIGTERM each target, SIGKILL it after ``grace_s``; returns the PIDs still alive."""
    for target in targets:
        _signal_one(proc_root, target, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(proc_root, t) for t in targets):
        time.sleep(0.05)
    for target in targets:
        if _alive(proc_root, target):
            _signal_one(proc_root, target, signal.SIGKILL)
    time.sleep(0.1)
    return [t.pid for t in targets if _alive(proc_root, t)]


def _alive(proc_root: Path, target: ProcessInfo) -> bool:
    now = read_process(proc_root, target.pid)
    return now is not None and now.start_ticks == target.start_ticks


def _signal_one(proc_root: Path, target: ProcessInfo, signum: signal.Signals) -> None:
    try:
        fd = os.pidfd_open(target.pid)
    except (OSError, AttributeError):
        fd = None  # no pidfd (old kernel) or already gone; fall back to the start-time check
    try:
        if not _alive(proc_root, target):
            return  # gone, or the PID now belongs to someone else
        if fd is not None:
            signal.pidfd_send_signal(fd, signum)
        else:
            os.kill(target.pid, signum)
    except ProcessLookupError:
        pass
    finally:
        if fd is not None:
            os.close(fd)


def _may_touch(info: ProcessInfo) -> bool:
    euid = os.geteuid()
    return euid == 0 or info.uid == euid
