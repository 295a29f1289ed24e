"""Top-N processes by CPU, memory, open files and I/O, grouped by command (``proc.<comm>.*``).

Metric names (instance = the command name through ``instance_name``, e.g. ``java``, ``nginx``;
every process with that name is summed into one instance, so 40 ``php-fpm`` workers are one):

- ``proc.<comm>.cpu_percent``: CPU time since the previous round, percent of ONE core (like
  ``top``; 250 = two and a half cores busy). Needs two readings of a process: a process that lives
  less than one round is seen only in ``processes.forks_per_s`` and ``proc.<comm>.count``.
- ``proc.<comm>.rss_bytes``: resident memory.
- ``proc.<comm>.open_fds``: open file descriptors (entries of ``/proc/<pid>/fd``).
- ``proc.<comm>.fd_limit_percent``: the highest share of its own ``RLIMIT_NOFILE`` soft limit
  (``/proc/<pid>/limits``) any of its processes uses; 100 = the next ``open()`` fails.
- ``proc.<comm>.read_bytes_per_s``, ``proc.<comm>.write_bytes_per_s``: storage I/O since the
  previous round (``/proc/<pid>/io`` ``read_bytes``/``write_bytes``; only processes the agent may
  read, i.e. all when it runs as root).
- ``proc.<comm>.threads``: threads of all its processes.
- ``proc.<comm>.count``: how many processes carry that name.

Which commands are reported: the ``top_n`` highest by CPU, by RSS, by open files and by storage
I/O each round (at most 4 × ``top_n``), each held for ``hold_rounds`` rounds after it last ranked
(:class:`StickyTop`), so series stay continuous; never more than ``MAX_INSTANCES``. Kernel threads
(children of ``kthreadd``) are left out: their names carry CPU numbers and would not be stable.
The systemd unit a process belongs to is in the ``unit.<unit>.*`` series of
:mod:`pipeline.agent.collectors.units`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.agent.collectors.base import (
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    CounterRates,
    instance_name,
    key_values,
    read_text,
)
from pipeline.agent.collectors.ranking import StickyTop

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
KTHREADD_PID = "2"
RANK_KEYS = ("cpu_percent", "rss_bytes", "open_fds", "io_bytes_per_s")
IO_FIELDS = ("read_bytes", "write_bytes")


@dataclass
class CommandGroup:
    """All processes of one command name in one round."""

    cpu_percent: float = 0.0
    cpu_rated: bool = False  # a gap, not 0 %, until one of its processes was read twice
    io_bytes_per_s: dict[str, float] | None = None  # None until one had two io readings
    rss_bytes: float = 0.0
    open_fds: float = 0.0
    threads: float = 0.0
    count: float = 0.0
    busiest_fds: tuple[float, str] = (-1.0, "")  # (open fds, pid) of the process with most
    pids: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """The ranked figures."""
        return {
            "cpu_percent": self.cpu_percent,
            "rss_bytes": self.rss_bytes,
            "open_fds": self.open_fds,
            "io_bytes_per_s": sum((self.io_bytes_per_s or {}).values()),
        }


class TopProcessCollector(Collector):
    """``proc.<comm>.cpu_percent|rss_bytes|open_fds|fd_limit_percent|threads|count``.

    Parameters
    ----------
    top_n
        Commands entering per ranking (CPU, RSS, open files, I/O) and round.
    hold_rounds
        Rounds a command stays reported after it last ranked.
    clock_ticks, page_bytes
        ``SC_CLK_TCK`` and the page size (``/proc/<pid>/stat`` counts in them); tests fix them.
    """

    name = "top"

    def __init__(
        self,
        proc_root: Path = PROC_ROOT,
        sys_root: Path = SYS_ROOT,
        top_n: int = 5,
        hold_rounds: int = 30,
        clock_ticks: int = CLOCK_TICKS,
        page_bytes: int = PAGE_BYTES,
    ) -> None:
        super().__init__(proc_root, sys_root)
        self.top_n = top_n
        self.hold_rounds = hold_rounds
        self.clock_ticks = clock_ticks
        self.page_bytes = page_bytes
        self._rates = CounterRates()
        self._top = StickyTop(top_n, hold_rounds)

    def collect(self, now_s: float) -> dict[str, float]:
        """Figures of the reported commands this round."""
        groups = self._groups(now_s)
        if not groups:
            return {}
        chosen = self._top.select({n: g.figures() for n, g in groups.items()}, RANK_KEYS)
        metrics: dict[str, float] = {}
        for name in chosen:
            metrics |= self._report(name, groups[name])
        return metrics

    def _groups(self, now_s: float) -> dict[str, CommandGroup]:
        try:
            pids = [entry.name for entry in self.proc_root.iterdir() if entry.name.isdigit()]
        except OSError:
            return {}
        groups: dict[str, CommandGroup] = {}
        seen: set[str] = set()
        for pid in pids:
            stat = _parse_stat(read_text(self.proc_root / pid / "stat"))
            if stat is None or stat[1] == KTHREADD_PID or pid == KTHREADD_PID:
                continue
            comm, _, start, cpu_ticks, threads, rss_pages = stat
            key = f"{pid}:{start}"  # a reused pid is another process: its ticks start anew
            seen.add(key)
            group = groups.setdefault(instance_name(comm), CommandGroup())
            rate = self._rates.rate(key, cpu_ticks / self.clock_ticks, now_s)
            if rate is not None:
                group.cpu_percent += 100.0 * rate
                group.cpu_rated = True
            self._add_io(group, key, pid, now_s)
            fds = self._open_fds(pid)
            group.rss_bytes += rss_pages * self.page_bytes
            group.open_fds += fds
            group.threads += threads
            group.count += 1
            group.busiest_fds = max(group.busiest_fds, (fds, pid))
        self._rates.retain(lambda key: key.split("|")[0] in seen)
        return groups

    def _add_io(self, group: CommandGroup, key: str, pid: str, now_s: float) -> None:
        io = key_values(read_text(self.proc_root / pid / "io") or "")
        if not all(field in io for field in IO_FIELDS):
            return  # not ours to read (no root), or a kernel without task I/O accounting
        counters = {field: io[field] for field in IO_FIELDS}
        rates = self._rates.rate_group(f"{key}|io", counters, now_s)
        if rates:
            totals = group.io_bytes_per_s or dict.fromkeys(IO_FIELDS, 0.0)
            group.io_bytes_per_s = {f: totals[f] + rates[f] for f in IO_FIELDS}

    def _open_fds(self, pid: str) -> float:
        try:
            return float(len(os.listdir(self.proc_root / pid / "fd")))
        except OSError:  # another user's process without CAP_SYS_PTRACE, or it exited
            return 0.0

    def _report(self, name: str, group: CommandGroup) -> dict[str, float]:
        prefix = f"proc.{name}"
        metrics = {f"{prefix}.cpu_percent": group.cpu_percent} if group.cpu_rated else {}
        metrics |= {
            f"{prefix}.rss_bytes": group.rss_bytes,
            f"{prefix}.open_fds": group.open_fds,
            f"{prefix}.threads": group.threads,
            f"{prefix}.count": group.count,
        }
        for io_field, rate in (group.io_bytes_per_s or {}).items():
            metrics[f"{prefix}.{io_field}_per_s"] = rate
        fds, pid = group.busiest_fds
        limit = _nofile_soft_limit(read_text(self.proc_root / pid / "limits"))
        if limit:
            metrics[f"{prefix}.fd_limit_percent"] = min(100.0, 100.0 * fds / limit)
        return metrics


def _parse_stat(text: str | None) -> tuple[str, str, str, float, float, float] | None:
    """(comm, ppid, starttime, utime + stime ticks, threads, rss pages) of a ``stat`` file."""
    if text is None or ")" not in text:
        return None
    comm = text[text.find("(") + 1 : text.rfind(")")]
    # After the command: state is field 3 (index 0 here); see proc(5) for the numbering.
    fields = text[text.rfind(")") + 2 :].split()
    if len(fields) < 22:
        return None
    cpu_ticks = float(fields[11]) + float(fields[12])
    return comm, fields[1], fields[19], cpu_ticks, float(fields[17]), float(fields[21])


def _nofile_soft_limit(text: str | None) -> float | None:
    """The soft ``Max open files`` of ``/proc/<pid>/limits``; None when unlimited or absent."""
    for line in (text or "").splitlines():
        if line.startswith("Max open files"):
            soft = line[len("Max open files") :].split()[0]
            return float(soft) if soft.isdigit() and soft != "0" else None
    return None
