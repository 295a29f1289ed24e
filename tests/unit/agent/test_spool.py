"""Spools: order per key, bounded with counted drops, and surviving a restart on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.agent.spool import DirectorySpool, MemorySpool


def _fill(spool: MemorySpool, count: int, keys: tuple[bytes, ...] = (b"a",)) -> None:
    for i in range(count):
        spool.append(keys[i % len(keys)], f"v{i:03d}".encode())


@pytest.fixture(params=["memory", "directory"])
def spool(request: pytest.FixtureRequest, tmp_path: Path) -> MemorySpool:
    if request.param == "memory":
        return MemorySpool(max_bytes=1000)
    return DirectorySpool(tmp_path / "spool", max_bytes=1000, fsync=False).open()


def test_heads_are_the_oldest_entry_of_each_key(spool: MemorySpool) -> None:
    _fill(spool, 6, keys=(b"a", b"b", b"c"))
    heads = spool.heads(10)
    assert [(e.key, e.value) for e in heads] == [(b"a", b"v000"), (b"b", b"v001"), (b"c", b"v002")]
    assert [e.key for e in spool.heads(2)] == [b"a", b"b"]
    spool.remove(heads[:1])
    assert [e.value for e in spool.heads(10)] == [b"v001", b"v002", b"v003"]


def test_full_spool_drops_oldest_and_counts(spool: MemorySpool) -> None:
    _fill(spool, 250)  # 5 bytes each: 200 fit in 1000
    assert len(spool) == 200
    assert spool.dropped == 50
    assert spool.pending_bytes == 1000
    assert spool.heads(1)[0].value == b"v050"


def test_removing_a_dropped_entry_is_harmless(spool: MemorySpool) -> None:
    first = spool.append(b"a", b"x" * 600)
    spool.append(b"a", b"y" * 600)  # pushes the first out
    spool.remove([first])
    assert len(spool) == 1
    assert spool.dropped == 1


def test_an_entry_larger_than_the_bound_is_refused(spool: MemorySpool) -> None:
    with pytest.raises(ValueError, match="exceeds 1000"):
        spool.append(b"a", b"x" * 1001)


def test_directory_spool_survives_a_restart_in_order(tmp_path: Path) -> None:
    spool = DirectorySpool(tmp_path, max_bytes=1000, fsync=False).open()
    _fill(spool, 230, keys=(b"n1", b"n2"))  # 6 bytes each: 166 fit, 64 dropped
    spool.remove(spool.heads(2))  # ids 64 and 65 delivered
    spool.close()

    reopened = DirectorySpool(tmp_path, max_bytes=1000, fsync=False).open()
    assert (reopened.dropped, reopened.next_id) == (64, 230)
    delivered = []
    while len(reopened):
        heads = reopened.heads(100)
        delivered.extend((e.entry_id, e.key, e.value) for e in heads)
        reopened.remove(heads)
    assert delivered == [(i, (b"n1", b"n2")[i % 2], f"v{i:03d}".encode()) for i in range(66, 230)]
    assert reopened.append(b"n1", b"new").entry_id == 230


def test_ids_keep_increasing_after_everything_was_delivered(tmp_path: Path) -> None:
    spool = DirectorySpool(tmp_path, max_bytes=1000, fsync=False).open()
    _fill(spool, 3)
    while len(spool):
        spool.remove(spool.heads(1))
    reopened = DirectorySpool(tmp_path, max_bytes=1000, fsync=False).open()
    assert len(reopened) == 0
    assert reopened.append(b"a", b"x").entry_id == 3


def test_interrupted_write_and_shrunk_bound_on_open(tmp_path: Path) -> None:
    spool = DirectorySpool(tmp_path, max_bytes=1000, fsync=True).open()
    _fill(spool, 10)
    (tmp_path / "00000000000000000099.msg.tmp").write_bytes(b"half")
    smaller = DirectorySpool(tmp_path, max_bytes=30, fsync=False).open()
    assert not list(tmp_path.glob("*.tmp"))
    assert len(smaller) == 6  # 5 bytes each (1-byte key + 4-byte value)
    assert smaller.dropped == 4
    assert len(list(tmp_path.glob("*.msg"))) == 6
