"""Stopping a child process of ours the way every server here is stopped: SIGTERM, then SIGKILL."""

from __future__ import annotations

import signal
import subprocess


def terminate(process: subprocess.Popen[bytes] | None, timeout_s: float = 30.0) -> None:
    """SIGTERM (so it can save state and flush), wait ``timeout_s``, then SIGKILL if it is stuck."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
