"""File system use per mount (``disk.*``) and block device I/O (``diskio.*``)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pipeline.agent.collectors.base import (
    MAX_INSTANCES,
    PROC_ROOT,
    SYS_ROOT,
    Collector,
    CounterRates,
    instance_name,
    read_text,
)

SECTOR_BYTES = 512  # /proc/diskstats counts 512-byte sectors whatever the device's block size
# Telegraf's default ignore_fs plus the kernel's pseudo file systems.
IGNORED_FS = frozenset(
    "tmpfs devtmpfs devfs iso9660 overlay aufs squashfs proc sysfs cgroup cgroup2 devpts mqueue "
    "securityfs pstore debugfs tracefs configfs fusectl hugetlbfs bpf autofs binfmt_misc nsfs "
    "rpc_pipefs ramfs efivarfs selinuxfs fuse.lxcfs nfsd".split()
)
IGNORED_DEVICES = re.compile(r"^(loop|ram|zram|sr|fd)\d*$")


class StatvfsResult(Protocol):
    """The fields of ``os.statvfs_result`` we read (read-only, as there)."""

    @property
    def f_frsize(self) -> int: ...  # noqa: D102
    @property
    def f_blocks(self) -> int: ...  # noqa: D102
    @property
    def f_bfree(self) -> int: ...  # noqa: D102
    @property
    def f_bavail(self) -> int: ...  # noqa: D102
    @property
    def f_files(self) -> int: ...  # noqa: D102
    @property
    def f_ffree(self) -> int: ...  # noqa: D102


class DiskCollector(Collector):
    """``disk.<mount>.used_percent|free_bytes|inodes_used_percent``, ``diskio.<dev>.*`` rates.

    Parameters
    ----------
    rootfs
        Where the host's ``/`` is visible (``/host`` in a DaemonSet); mount points are resolved
        under it for ``statvfs``.
    statvfs
        ``os.statvfs`` or a stand-in (tests read golden values from a file).
    """

    name = "disk"

    def __init__(
        self,
        proc_root: Path = PROC_ROOT,
        sys_root: Path = SYS_ROOT,
        rootfs: Path = Path("/"),
        statvfs: Callable[[str], StatvfsResult] = os.statvfs,
    ) -> None:
        super().__init__(proc_root, sys_root)
        self.rootfs = Path(rootfs)
        self.statvfs = statvfs
        self._rates = CounterRates()

    def collect(self, now_s: float) -> dict[str, float]:
        """Use of each real mount and I/O rates of each whole disk."""
        return self._usage() | self._io(now_s)

    def _usage(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for mount_point in self._mount_points()[:MAX_INSTANCES]:
            try:
                st = self.statvfs(str(self.rootfs / mount_point.lstrip("/")))
            except OSError:
                continue  # unmounted between reading mounts and statvfs, or no permission
            if st.f_blocks == 0:
                continue
            used = (st.f_blocks - st.f_bfree) * st.f_frsize
            avail = st.f_bavail * st.f_frsize
            prefix = f"disk.{instance_name(mount_point)}"
            metrics[f"{prefix}.used_percent"] = 100.0 * used / (used + avail) if used + avail else 0
            metrics[f"{prefix}.free_bytes"] = float(avail)
            if st.f_files:
                inodes_used = st.f_files - st.f_ffree
                metrics[f"{prefix}.inodes_used_percent"] = 100.0 * inodes_used / st.f_files
        return metrics

    def _mount_points(self) -> list[str]:
        # The host's init sees the host's mounts even when we run in a container with hostPID.
        text = read_text(self.proc_root / "1" / "mounts") or read_text(
            self.proc_root / "self" / "mounts"
        )
        seen_devices: set[str] = set()
        points: list[str] = []
        for line in (text or "").splitlines():
            fields = line.split()
            if len(fields) < 3:
                continue
            device, point, fs_type = fields[0], _unescape(fields[1]), fields[2]
            if fs_type in IGNORED_FS and not (fs_type == "overlay" and point == "/"):
                continue
            if device in seen_devices:  # bind mounts repeat a device; report it once
                continue
            seen_devices.add(device)
            points.append(point)
        return points

    def _io(self, now_s: float) -> dict[str, float]:
        text = read_text(self.proc_root / "diskstats")
        if text is None:
            return {}
        whole_disks = self._whole_disks()
        metrics: dict[str, float] = {}
        seen: set[str] = set()
        for line in text.splitlines():
            fields = line.split()
            if len(fields) < 14 or IGNORED_DEVICES.match(fields[2]):
                continue
            device = fields[2]
            if whole_disks is not None and device not in whole_disks:
                continue
            if len(seen) >= MAX_INSTANCES:
                break
            seen.add(device)
            metrics |= self._device(device, [float(v) for v in fields[3:14]], now_s)
        self._rates.retain(lambda key: key.split("|")[0] in seen)
        return metrics

    def _device(self, device: str, values: list[float], now_s: float) -> dict[str, float]:
        prefix = f"diskio.{instance_name(device)}"
        counters = {
            "reads_per_s": values[0],
            "read_bytes_per_s": values[2] * SECTOR_BYTES,
            "writes_per_s": values[4],
            "write_bytes_per_s": values[6] * SECTOR_BYTES,
            "busy_percent": values[9] / 10.0,  # ms busy per s → percent of the interval
        }
        metrics = {f"{prefix}.in_progress": values[8]}
        for field, rate in self._rates.rate_group(device, counters, now_s).items():
            metrics[f"{prefix}.{field}"] = min(rate, 100.0) if field == "busy_percent" else rate
        return metrics

    def _whole_disks(self) -> set[str] | None:
        """Names under /sys/block (whole disks, not partitions), or None when /sys is absent."""
        block = self.sys_root / "block"
        try:
            return {entry.name for entry in block.iterdir()}
        except OSError:
            return None


def _unescape(path: str) -> str:
    r"""/proc/mounts escapes space, tab, newline and backslash as octal (``\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)
