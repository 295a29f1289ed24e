"""Measure a running agent process's CPU share and memory from ``/proc/<pid>`` (for the bench)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import FleetwatchError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TARGET_CPU_PERCENT = 0.5  # issue 5: Telegraf/Netdata are what users compare against
TARGET_RSS_BYTES = 60 * 1024 * 1024


@dataclass(frozen=True)
class Overhead:
    """What an agent cost over ``seconds`` of steady state (start-up excluded)."""

    cpu_percent: float  # of one core, the process and its reaped children (systemctl)
    rss_bytes: int  # at the end of the measurement
    rss_peak_bytes: int  # high-water mark since the process started
    seconds: float
    startup_cpu_seconds: float  # imports and the first round, before the measurement

    def as_dict(self) -> dict[str, Any]:
        """Plain values for ``--json``."""
        return asdict(self)


def cpu_seconds(pid: int, proc_root: Path = Path("/proc")) -> float:
    """User + system time of ``pid`` and its waited-for children."""
    stat = (proc_root / str(pid) / "stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    # After the command: state is field 3; utime, stime, cutime, cstime are fields 14-17.
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def memory_bytes(pid: int, proc_root: Path = Path("/proc")) -> tuple[int, int]:
    """Current and peak resident set size of ``pid``."""
    status = (proc_root / str(pid) / "status").read_text()
    values = {
        line.split(":")[0]: int(line.split()[1]) * 1024
        for line in status.splitlines()
        if line.startswith(("VmRSS:", "VmHWM:"))
    }
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def measure_process(process: subprocess.Popen[bytes], warmup_s: float, seconds: float) -> Overhead:
    """Let ``process`` start for ``warmup_s``, then measure it for ``seconds``.

    Raises
    ------
    FleetwatchError
        When the process exits before the measurement ends.
    """
    time.sleep(warmup_s)
    _check_alive(process)
    cpu_start, at_start = cpu_seconds(process.pid), time.monotonic()
    time.sleep(seconds)
    _check_alive(process)
    cpu_end, at_end = cpu_seconds(process.pid), time.monotonic()
    rss, peak = memory_bytes(process.pid)
    return Overhead(
        cpu_percent=100.0 * (cpu_end - cpu_start) / (at_end - at_start),
        rss_bytes=rss,
        rss_peak_bytes=peak,
        seconds=at_end - at_start,
        startup_cpu_seconds=cpu_start,
    )


def _check_alive(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        raise FleetwatchError(f"the agent exited early with status {process.returncode}")


def bench_agent_overhead(
    seconds: float,
    warmup_s: float,
    interval_s: float,
    kafka_bootstrap: str | None,
    topic_prefix: str,
) -> dict[str, Any]:
    """Run ``fleetwatch agent`` in a child process and measure it; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="fleetwatch-bench-agent-") as tmp:
        spool_dir = Path(tmp) / "spool"
        command = [
            sys.executable,
            "-m",
            "pipeline",
            "agent",
            "--interval-s",
            str(interval_s),
            "--spool-dir",
            str(spool_dir),
            "--node-id",
            f"bench-agent-{uuid.uuid4().hex[:8]}",
            "--topic-prefix",
            topic_prefix,
        ]
        if kafka_bootstrap:
            command += ["--kafka-bootstrap", kafka_bootstrap]
        log_path = Path(tmp) / "agent.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603
            try:
                overhead = measure_process(process, warmup_s, seconds)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        left = len(list(spool_dir.glob("*.msg")))
    return overhead.as_dict() | {
        "interval_s": interval_s,
        "rounds": int(overhead.seconds // interval_s),
        "spooled_after_stop": left,
        "target_cpu_percent": TARGET_CPU_PERCENT,
        "target_rss_bytes": TARGET_RSS_BYTES,
        "meets_target": overhead.cpu_percent <= TARGET_CPU_PERCENT
        and overhead.rss_bytes <= TARGET_RSS_BYTES,
    }
