"""Delete old files under an allowlisted root without ever following a symlink out of it.

The walk uses directory file descriptors (``os.fwalk``) and ``unlink(dir_fd=...)``: a symlinked
directory is never entered, a symlink is never resolved, and swapping a directory for a symlink
mid-walk cannot redirect a delete elsewhere.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ActionRefused


@dataclass(frozen=True)
class CleanReport:
    """What one clean found and did."""

    deleted: int
    kept: int
    skipped_links: int
    freed_bytes: int


def resolve_inside(path: Path, roots: Sequence[Path]) -> Path:
    """``path`` if it is a real directory (no symlink anywhere) under an allowlisted root."""
    if not roots:
        raise ActionRefused("clean_roots is empty: no path may be cleaned")
    real = Path(os.path.realpath(path))
    if real != Path(os.path.abspath(path)):
        raise ActionRefused(f"{path} goes through a symlink (to {real}); refused")
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if real == real_root or real.is_relative_to(real_root):
            if not real.is_dir():
                raise ActionRefused(f"{path} is not a directory")
            return real
    raise ActionRefused(f"{path} is outside the allowlisted roots {[str(r) for r in roots]}")


def clean_old_files(
    path: Path,
    roots: Sequence[Path],
    older_than_s: float,
    now_s: float,
    glob: str = "*",
    dry_run: bool = True,
) -> CleanReport:
    """Delete (or with ``dry_run`` only count) regular files older than ``older_than_s``."""
    top = resolve_inside(path, roots)
    deleted = kept = links = freed = 0
    for _dirpath, _dirnames, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
        for name in filenames:
            info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                links += 1  # the link itself might be old, but its target is not ours to judge
                continue
            if not stat.S_ISREG(info.st_mode) or not fnmatch.fnmatch(name, glob):
                kept += 1
                continue
            if now_s - info.st_mtime < older_than_s:
                kept += 1
                continue
            if not dry_run:
                os.unlink(name, dir_fd=dirfd)
            deleted += 1
            freed += info.st_size
    return CleanReport(deleted=deleted, kept=kept, skipped_links=links, freed_bytes=freed)
