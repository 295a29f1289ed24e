from __future__ import annotations

import signal
import subprocess
import sys

from pipeline.child_process import terminate


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
