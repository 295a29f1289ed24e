"""A spool whose disk refuses writes keeps entries in memory, bounded and counted, and says so."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from pipeline.agent.spool import DirectorySpool


def _break(directory: Path) -> None:
    """Every write under ``directory`` now fails (ENOTDIR), even for root."""
    shutil.rmtree(directory)
    directory.write_bytes(b"")


def test_writes_refused_keep_entries_in_memory_and_warn_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "spool"
    spool = DirectorySpool(directory, max_bytes=10_000, fsync=False).open()
    spool.append(b"a", b"on-disk")
    _break(directory)
    with caplog.at_level(logging.WARNING, logger="pipeline.agent.spool"):
        for i in range(3):
            spool.append(b"a", f"mem-{i}".encode())
    assert len(spool) == 4 and spool.unpersisted == 3 and spool.disk_failing
    assert [r.getMessage() for r in caplog.records if "not writable" in r.getMessage()]
    assert len(caplog.records) == 1, "one warning per failure episode, not per batch"
    spool.remove(spool.heads(1))
    assert [e.value for e in spool.heads(1)] == [b"mem-0"]
    spool.close()  # the state file cannot be written either; closing must not raise


def test_recovery_writes_to_disk_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "spool"
    spool = DirectorySpool(directory, max_bytes=10_000, fsync=False).open()
    _break(directory)
    spool.append(b"a", b"lost-on-restart")
    directory.unlink()
    directory.mkdir()
    with caplog.at_level(logging.WARNING, logger="pipeline.agent.spool"):
        spool.append(b"a", b"durable")
    assert not spool.disk_failing
    assert "writable again" in caplog.text
    assert len(list(directory.glob("*.msg"))) == 1
    assert not list(directory.glob("*.tmp"))


def test_memory_only_entries_still_obey_the_bound(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = DirectorySpool(directory, max_bytes=100, fsync=False).open()
    _break(directory)
    for i in range(30):
        spool.append(b"k", f"{i:09d}".encode())  # 10 bytes each with the key
    assert spool.pending_bytes <= 100 and len(spool) == 10
    assert spool.dropped == 20 and spool.unpersisted == 30
