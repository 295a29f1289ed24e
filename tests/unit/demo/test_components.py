from __future__ import annotations

from pathlib import Path

from pipeline.demo.components import Component


def test_the_last_line_skips_terminal_control_sequences(tmp_path: Path) -> None:
    # How a crashed Faust worker's log ends: the crash, then the spinner's "show the cursor".
    log = tmp_path / "worker.log"
    log.write_text("starting\n[CRITICAL] [^Worker]: We experienced a crash!\n\x1b[?25h\n")
    worker = Component("worker", ["worker"], log)
    assert worker.last_log_line() == "[CRITICAL] [^Worker]: We experienced a crash!"


def test_a_missing_or_empty_log_has_no_last_line(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    assert Component("worker", ["worker"], log).last_log_line() == ""
    log.write_text("\x1b[?25l\n\n")
    assert Component("worker", ["worker"], log).last_log_line() == ""
