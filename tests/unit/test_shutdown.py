from __future__ import annotations

import os
import signal
import subprocess
import sys

from pipeline.shutdown import stop_on_signals, terminate


def test_terminate_sends_sigterm_and_waits() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    terminate(process, timeout_s=10)
    assert process.returncode == -signal.SIGTERM


def test_terminate_kills_a_process_that_ignores_sigterm() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " print(1, flush=True); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline()  # handler installed
    terminate(process, timeout_s=0.5)
    assert process.returncode == -signal.SIGKILL


def test_terminate_leaves_a_finished_process_alone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    terminate(process)
    terminate(None)
    assert process.returncode == 0


def test_sigterm_and_sigint_set_the_stop_event() -> None:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for signum in saved:
            stop = stop_on_signals()
            assert not stop.is_set()
            os.kill(os.getpid(), signum)
            assert stop.wait(5)
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
