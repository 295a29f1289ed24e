"""Child processes of the demo (workers, incident stage, remediators), started and watched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pipeline.shutdown import terminate
from pipeline.stream.meters import scrape

LAG_METRIC = "fleetwatch_consumer_lag_messages"
# Terminal control sequences (Faust's spinner ends its log with "show the cursor", ESC [?25h).
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Component:
    """One ``python -m pipeline ...`` child process with its own log file."""

    name: str
    args: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> None:
        """Start the process; its output goes to ``log_path``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "pipeline", *self.args],
            env=os.environ | self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def last_log_line(self) -> str:
        """The last line of visible text the process wrote, for one-line failure reports."""
        try:
            text = ESCAPES.sub("", self.log_path.read_text(errors="replace"))
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM, wait up to ``timeout_s`` for a clean shutdown (sinks flush), then SIGKILL."""
        terminate(self.process, timeout_s)
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Components:
    """The demo's children: started in order, stopped in reverse, checked for early death."""

    members: list[Component] = field(default_factory=list)

    def start(self, component: Component) -> Component:
        """Start ``component`` and keep it for ``dead()`` and ``stop_all()``."""
        component.start()
        self.members.append(component)
        return component

    def dead(self) -> list[Component]:
        """Components whose process ended although nobody stopped it."""
        return [member for member in self.members if not member.alive]

    def stop_all(self) -> None:
        """Stop every component, last started first."""
        for member in reversed(self.members):
            member.stop()


# What a stuck worker's error shows of its /metrics: is it assigned, rebalancing, acknowledging?
STATE_METRICS = (
    "fleetwatch_batches_total",
    "fleetwatch_assigned_partitions",
    "fleetwatch_rebalances_total",
    "fleetwatch_unacknowledged_messages",
    "fleetwatch_sink_buffer_points",
)


def worker_state(web_port: int) -> str:
    """The stream worker's counts that tell a stall's kind apart, one line (for its error).

    Examples
    --------
    >>> worker_state(1)  # nothing listens on port 1
    'its /metrics did not answer'
    """
    meters = scrape(web_port, timeout_s=2)
    if not meters:
        return "its /metrics did not answer"
    found = [(name, meters[name]) for name in STATE_METRICS if name in meters]
    return ", ".join(f"{name.removeprefix('fleetwatch_')} {value:.0f}" for name, value in found)


def worker_lag(web_port: int) -> int | None:
    """Messages the stream worker has not read yet (its /metrics); None when it does not answer."""
    lag = scrape(web_port, timeout_s=2).get(LAG_METRIC)
    return None if lag is None else int(lag)
