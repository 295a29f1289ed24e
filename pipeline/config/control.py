"""What the incident stage and every node must agree on: keys, approvals, blast radius."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from pipeline.config.base import Section


class ControlSettings(Section):
    """What the incident stage and every node must agree on: keys, approvals, blast radius."""

    section: ClassVar[str] = "control"
    formerly: ClassVar[str] = "remediation"

    keyring: Path | None = Field(
        None,
        description="JSON keyring of public keys (issuer and operators) requests are checked with",
    )
    signing_key: Path | None = Field(
        None,
        description="this process's private key file (issuer or operator; never on nodes)",
    )
    approval_required: list[str] = Field(
        ["restart_unit", "clean_files", "limit_cgroup", "run_script"],
        description="actions that wait for an operator's approve, whatever the runbook says",
    )
    blast_max_nodes: int = Field(
        10, ge=0, description="most distinct nodes acted on per blast window"
    )
    blast_max_share: float = Field(
        0.2, ge=0.0, le=1.0, description="most share of a group acted on per blast window"
    )
    blast_window_s: int = Field(
        900,
        ge=1,
        description="window of the blast-radius guard",
    )
