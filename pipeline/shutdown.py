"""How every process here stops: SIGTERM asks (then SIGKILL); the one asked sets an Event."""

from __future__ import annotations

import signal
import subprocess
import threading


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


def stop_on_signals() -> threading.Event:
    """An Event that SIGTERM or SIGINT sets, for a long-running loop to poll and end cleanly.

    Installs the signal handlers, so call it from the main thread.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop
