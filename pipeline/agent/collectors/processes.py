"""Process counts by state, forks and open file handles, from ``/proc/[pid]/stat`` and friends."""

from __future__ import annotations

from pathlib import Path

from pipeline.agent.collectors.base import (
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    CounterRates,
    read_text,
)

STATES = {"R": "running", "S": "sleeping", "D": "blocked", "Z": "zombies", "T": "stopped"}


class ProcessCollector(Collector):
    """``processes.total|running|sleeping|blocked|zombies|stopped``, ``open_fds``, forks/s."""

    name = "processes"

    def __init__(self, proc_root: Path = PROC_ROOT, sys_root: Path = SYS_ROOT) -> None:
        super().__init__(proc_root, sys_root)
        self._rates = CounterRates()

    def collect(self, now_s: float) -> dict[str, float]:
        """Count processes by state; system-wide file handles."""
        metrics = self._states()
        text = read_text(self.proc_root / "sys" / "fs" / "file-nr")
        if text is not None and len(fields := text.split()) >= 3:
            allocated, unused, maximum = (float(v) for v in fields[:3])
            metrics["processes.open_fds"] = allocated - unused
            if maximum > 0:
                metrics["processes.open_fds_percent"] = 100.0 * (allocated - unused) / maximum
        text = read_text(self.proc_root / "stat")
        for line in (text or "").splitlines():
            if line.startswith("processes "):
                rate = self._rates.rate("forks", float(line.split()[1]), now_s)
                if rate is not None:
                    metrics["processes.forks_per_s"] = rate
        return metrics

    def _states(self) -> dict[str, float]:
        try:
            pids = [entry for entry in self.proc_root.iterdir() if entry.name.isdigit()]
        except OSError:
            return {}
        counts = dict.fromkeys(STATES.values(), 0.0)
        total = 0
        for pid in pids:
            text = read_text(pid / "stat")
            if text is None:
                continue  # the process exited while we listed /proc
            # The command name may contain spaces and parentheses; the state follows the last ')'.
            state = text[text.rfind(")") + 2 : text.rfind(")") + 3]
            total += 1
            if state in STATES:
                counts[STATES[state]] += 1
            elif state == "t":
                counts["stopped"] += 1
        if not total:
            return {}
        return {"processes.total": float(total)} | {
            f"processes.{name}": count for name, count in counts.items()
        }
