from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipeline.errors import ActionRefused
from pipeline.remediate.files import clean_old_files

DAY = 86_400


def _old(path: Path, days: float = 10) -> Path:
    path.write_text("x" * 10)
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    root, outside = tmp_path / "logs", tmp_path / "precious"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    return {"root": root, "outside": outside, "tmp": tmp_path}


def test_only_old_regular_files_matching_glob_are_deleted(tree: dict[str, Path]) -> None:
    root = tree["root"]
    old, deep = _old(root / "a.log"), _old(root / "sub" / "b.log")
    fresh, other = _old(root / "c.log", days=1), _old(root / "keep.txt")
    report = clean_old_files(root, [root], 7 * DAY, time.time(), glob="*.log", dry_run=False)
    assert (report.deleted, report.freed_bytes) == (2, 20)
    assert not old.exists() and not deep.exists()
    assert fresh.exists() and other.exists()


def test_dry_run_deletes_nothing(tree: dict[str, Path]) -> None:
    old = _old(tree["root"] / "a.log")
    report = clean_old_files(tree["root"], [tree["root"]], DAY, time.time())
    assert report.deleted == 1 and old.exists()


def test_symlink_to_a_file_outside_is_never_followed(tree: dict[str, Path]) -> None:
    precious = _old(tree["outside"] / "db.dat")
    (tree["root"] / "link.log").symlink_to(precious)
    report = clean_old_files(tree["root"], [tree["root"]], DAY, time.time(), dry_run=False)
    assert precious.exists() and report.skipped_links == 1


def test_symlinked_directory_is_not_entered(tree: dict[str, Path]) -> None:
    precious = _old(tree["outside"] / "db.dat")
    (tree["root"] / "sub" / "escape").symlink_to(tree["outside"], target_is_directory=True)
    clean_old_files(tree["root"], [tree["root"]], DAY, time.time(), dry_run=False)
    assert precious.exists()


def test_path_through_a_symlink_is_refused(tree: dict[str, Path]) -> None:
    _old(tree["outside"] / "db.dat")
    sneaky = tree["root"] / "sneaky"
    sneaky.symlink_to(tree["outside"], target_is_directory=True)
    with pytest.raises(ActionRefused, match="symlink"):
        clean_old_files(sneaky, [tree["root"]], DAY, time.time(), dry_run=False)


def test_path_outside_the_roots_is_refused(tree: dict[str, Path]) -> None:
    with pytest.raises(ActionRefused, match="outside"):
        clean_old_files(tree["outside"], [tree["root"]], DAY, time.time())
    with pytest.raises(ActionRefused, match="outside"):
        clean_old_files(tree["root"] / ".." / "precious", [tree["root"]], DAY, time.time())


def test_no_roots_means_nothing_may_be_cleaned(tree: dict[str, Path]) -> None:
    with pytest.raises(ActionRefused, match="clean_roots is empty"):
        clean_old_files(tree["root"], [], DAY, time.time())
