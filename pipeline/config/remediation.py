"""The node-side executor's settings: dry-run or apply, allowlists, limits, where actions act."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from pipeline.config.base import Section


class RemediationSettings(Section):
    """The node-side executor: dry-run or apply, allowlists, limits, where actions act."""

    section: ClassVar[str] = "remediation"

    apply: bool = Field(False, description="act (else dry-run)")
    allowed_actions: list[str] = Field(
        ["restart_unit", "stop_process", "drop_caches", "clean_files", "limit_cgroup"],
        description="JSON list; others are refused",
    )
    rate_limit_per_node: int = Field(3, ge=0, description="actions per window")
    rate_window_s: int = Field(
        600,
        ge=1,
        description="window of the per-node rate limit",
    )
    process_allowlist: list[str] = Field([], description="regexes of stoppable commands")
    clean_roots: list[Path] = Field([], description="dirs clean_files may delete under")
    scripts: dict[str, Path] = Field({}, description="JSON name -> absolute script path")
    webhook_urls: list[str] = Field([], description="URLs call_webhook may POST to")
    cgroup_root: Path = Field(
        Path("/sys/fs/cgroup"),
        description="cgroup v2 mount for limit actions",
    )
    tune_root: Path = Field(
        Path("/"),
        description="root of proc/sys, sys/fs/cgroup and etc/systemd for tune actions",
    )
    drop_caches_path: Path = Field(
        Path("/proc/sys/vm/drop_caches"),
        description="file drop_caches writes to",
    )
    systemctl: Path = Field(
        Path("/usr/bin/systemctl"),
        description="systemctl binary for restart_unit",
    )
    action_timeout_s: float = Field(
        30.0,
        gt=0,
        description="longest one action may run",
    )
    verify_timeout_s: float = Field(
        60.0,
        gt=0,
        description="wait for recovery after acting",
    )
    state_dir: Path = Field(
        Path("/tmp/fleetwatch-remediation"),  # noqa: S108 - a default for development
        description="seen nonces, executed requests, rate and blast windows, pending approvals",
    )
