"""systemd service counts by state (and watched units), from ``systemctl list-units``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.agent.collectors.base import (
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    instance_name,
)

ACTIVE_STATES = ("active", "failed", "activating", "deactivating", "inactive")


def run_systemctl() -> str | None:
    """``systemctl list-units`` output for every service, or None when it cannot run."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return None
    command = [systemctl, "list-units", "--type=service", "--all", "--no-legend", "--plain"]
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, absolute path from which()
            [*command, "--no-pager"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


class ServicesCollector(Collector):
    """``services.<state>`` counts and ``services.<unit>.active`` (1/0) for watched units.

    Parameters
    ----------
    run_root
        Where ``/run`` is; systemd is considered running when ``run_root/systemd/system`` exists
        (the same test as ``sd_booted(3)``).
    units
        Unit names (``nginx.service``) to report one by one.
    refresh_s
        ``systemctl`` is a process spawn, so it runs at most this often; rounds in between
        repeat the last reading.
    list_units
        Returns ``systemctl list-units`` output (tests pass a snapshot).
    """

    name = "services"

    def __init__(
        self,
        proc_root: Path = PROC_ROOT,
        sys_root: Path = SYS_ROOT,
        run_root: Path = Path("/run"),
        units: Sequence[str] = (),
        refresh_s: float = 60.0,
        list_units: Callable[[], str | None] = run_systemctl,
    ) -> None:
        super().__init__(proc_root, sys_root)
        self.run_root = Path(run_root)
        self.units = tuple(units)
        self.refresh_s = refresh_s
        self.list_units = list_units
        self._cached: dict[str, float] = {}
        self._read_at: float | None = None

    def collect(self, now_s: float) -> dict[str, float]:
        """Counts by active state; empty when systemd is not running."""
        if not (self.run_root / "systemd" / "system").is_dir():
            return {}
        if self._read_at is None or now_s - self._read_at >= self.refresh_s:
            self._read_at = now_s
            text = self.list_units()
            self._cached = self._parse(text) if text is not None else {}
        return dict(self._cached)

    def _parse(self, text: str) -> dict[str, float]:
        counts = dict.fromkeys(ACTIVE_STATES, 0.0)
        states: dict[str, str] = {}
        for line in text.splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[0].endswith(".service"):
                states[fields[0]] = fields[2]
                if fields[2] in counts:
                    counts[fields[2]] += 1
        metrics = {f"services.{state}": count for state, count in counts.items()}
        for unit in self.units:
            key = f"services.{instance_name(unit.removesuffix('.service'))}.active"
            metrics[key] = 1.0 if states.get(unit) == "active" else 0.0
        return metrics
