"""The Collector base, counter-to-rate conversion and the small readers every collector shares."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

PROC_ROOT = Path("/proc")
SYS_ROOT = Path("/sys")
MAX_INSTANCES = 32  # per subsystem: a node with 500 veth devices must not blow up a batch
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


class Collector(ABC):
    """Reads one subsystem and returns ``{"<subsystem>.<field>": value}``.

    Parameters
    ----------
    proc_root
        Where ``/proc`` is mounted (``/host/proc`` in a container, a snapshot in tests).
    sys_root
        Where ``/sys`` is mounted.

    A missing file is normal (containers, old kernels): ``collect`` then returns fewer metrics,
    never raises. Counters become per-second rates from the second call on.
    """

    name: ClassVar[str] = ""

    def __init__(self, proc_root: Path = PROC_ROOT, sys_root: Path = SYS_ROOT) -> None:
        self.proc_root = Path(proc_root)
        self.sys_root = Path(sys_root)

    @abstractmethod
    def collect(self, now_s: float) -> dict[str, float]:
        """Read the subsystem at monotonic time ``now_s`` (seconds); returns metric → value."""


class CounterRates:
    """Turns monotonically increasing counters into per-second rates.

    The first reading of a counter, and any reading lower than the previous one (a 32-bit wrap,
    a reset after reboot or driver reload), yields ``None``: a gap is honest, a spike of 2**64
    bytes per second is not.

    Examples
    --------
    >>> rates = CounterRates()
    >>> rates.rate("rx", 100, now_s=0.0) is None
    True
    >>> rates.rate("rx", 600, now_s=10.0)
    50.0
    >>> rates.rate("rx", 5, now_s=20.0) is None
    True
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def rate(self, key: str, value: float, now_s: float) -> float | None:
        """Per-second increase of counter ``key`` since its last reading, or None."""
        previous = self._last.get(key)
        self._last[key] = (value, now_s)
        if previous is None:
            return None
        last_value, last_s = previous
        elapsed_s = now_s - last_s
        if value < last_value or elapsed_s <= 0:
            return None
        return (value - last_value) / elapsed_s

    def rate_group(self, key: str, values: dict[str, float], now_s: float) -> dict[str, float]:
        """Rates of counters that reset together (one device); none if any of them went back.

        A device reset zeroes all its counters, but one that was 0 anyway would pass a
        per-counter check, so the whole group is judged at once.
        """
        rates = {name: self.rate(f"{key}|{name}", value, now_s) for name, value in values.items()}
        if any(rate is None for rate in rates.values()):
            return {}
        return {name: rate for name, rate in rates.items() if rate is not None}

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Drop state of counters that vanished (unplugged disks, deleted interfaces)."""
        for key in [key for key in self._last if not keep(key)]:
            del self._last[key]


def instance_name(raw: str) -> str:
    """A device, mount or unit name as a metric name segment: ``/`` → ``root``.

    Examples
    --------
    >>> instance_name("/")
    'root'
    >>> instance_name("/var/lib/Docker")
    'var_lib_docker'
    >>> instance_name("nvme0n1")
    'nvme0n1'
    """
    if raw == "/":
        return "root"
    cleaned = _UNSAFE.sub("_", raw.strip("/").lower()).strip("_") or "unnamed"
    if cleaned[0] == "-":
        cleaned = "_" + cleaned[1:]
    return cleaned[:64]


def read_text(path: Path) -> str | None:
    """File contents, or None when it is missing or unreadable (normal in containers)."""
    try:
        return path.read_text()
    except OSError:
        return None


def read_number(path: Path) -> float | None:
    """The first number in a one-value file (``/sys`` style), or None."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def key_values(text: str) -> dict[str, float]:
    """``Name:  123 kB`` lines (``/proc/meminfo``) or ``name 123`` lines (``/proc/vmstat``)."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2:
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return values
