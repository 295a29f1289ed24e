"""The fixed catalogue of remediation actions and the typed parameters each one takes.

Parameters are validated twice: when a runbook is loaded (so a typo fails at deploy time) and on
the node before acting (so a request cannot smuggle in what a runbook could not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

UnitName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9@_.:-]{1,200}\.(service|timer)$")]
# Regexes for process names are validated as regexes by the policy; here only their size.
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=200)]
AbsPath = Annotated[str, StringConstraints(pattern=r"^/[^\x00]{0,1023}$")]


class ActionParams(BaseModel):
    """Base of every action's parameters: strict, immutable, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class RestartUnit(ActionParams):
    """``systemctl restart <unit>``."""

    unit: UnitName


class StopProcess(ActionParams):
    """SIGTERM (then SIGKILL after ``grace_s``) processes matching ``pattern``, or the top one."""

    pattern: Pattern | None = None
    top: Literal["cpu", "memory"] | None = None
    grace_s: float = Field(5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _one_selector(self) -> StopProcess:
        if self.pattern is None and self.top is None:
            raise ValueError("give pattern, top, or both (top consumer among pattern matches)")
        return self


class DropCaches(ActionParams):
    """Write 1 (page cache), 2 (dentries/inodes) or 3 (both) to ``/proc/sys/vm/drop_caches``."""

    level: Literal[1, 2, 3] = 1


class CleanFiles(ActionParams):
    """Delete regular files older than ``older_than_days`` under ``path`` (an allowlisted root)."""

    path: AbsPath
    older_than_days: float = Field(ge=0, le=3650)
    glob: Annotated[str, StringConstraints(pattern=r"^[^/\x00]{1,100}$")] = "*"


class LimitCgroup(ActionParams):
    """Lower a cgroup v2 ``cpu.max`` (percent of one CPU) or ``memory.max`` (bytes)."""

    cgroup: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9@_.:/-]{1,255}$")]
    cpu_percent: float | None = Field(None, gt=0, le=6400)
    memory_bytes: int | None = Field(None, ge=1 << 20)

    @model_validator(mode="after")
    def _one_limit(self) -> LimitCgroup:
        if (self.cpu_percent is None) == (self.memory_bytes is None):
            raise ValueError("give exactly one of cpu_percent or memory_bytes")
        if ".." in self.cgroup.split("/"):
            raise ValueError("cgroup must not contain '..'")
        return self


class CallWebhook(ActionParams):
    """POST the incident as JSON to an allowlisted URL."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]


class RunScript(ActionParams):
    """Run an allowlisted script by name with at most one argument (argv, never a shell)."""

    script: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    arg: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:=/@-]{0,200}$")] | None = None


class Rollback(ActionParams):
    """Run the role's rollback hook (an allowlisted script) with the change id to undo."""

    hook: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    change: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:=/@-]{0,200}$")] | None = None


class Notify(ActionParams):
    """Nothing is done on a node: the incident pages a human (no safe action exists)."""


# Tuning actions (``fleetwatch tune apply``): the knobs and values tune suggest proposes.
# key → (lowest, highest) value a node accepts; mirrors pipeline.tune.rules (a test checks it).
SYSCTL_BOUNDS: dict[str, tuple[int, int]] = {
    "vm.swappiness": (1, 60),
    "vm.dirty_background_ratio": (1, 10),
    "vm.dirty_ratio": (5, 20),
    "net.core.netdev_max_backlog": (1000, 65536),
    "net.core.somaxconn": (128, 65535),
}
SysctlKey = Literal[
    "vm.swappiness",
    "vm.dirty_background_ratio",
    "vm.dirty_ratio",
    "net.core.netdev_max_backlog",
    "net.core.somaxconn",
]
# What each cgroup v2 file and unit property may be set to (no spaces beyond the format's own).
CGROUP_VALUE = {
    "memory.high": re.compile(r"^(max|[0-9]{1,19})$"),
    "cpu.max": re.compile(r"^(max|[0-9]{1,10}) [0-9]{1,10}$"),
    "io.max": re.compile(
        r"^[0-9]{1,4}:[0-9]{1,4}( (rbps|wbps|riops|wiops)=(max|[0-9]{1,19})){1,4}$"
    ),
}
PROPERTY_VALUE = {
    "LimitNOFILE": re.compile(r"^[0-9]{3,7}$"),
    "MemoryHigh": re.compile(r"^([0-9]{1,19}[KMGT]?|[0-9]{1,2}%|infinity)$"),
    "CPUQuota": re.compile(r"^[0-9]{1,4}%$"),
}


class SetSysctl(ActionParams):
    """Write ``value`` to ``/proc/sys/<key>``: an allowlisted key, within its bounds."""

    key: SysctlKey
    value: int

    @model_validator(mode="after")
    def _within_bounds(self) -> SetSysctl:
        low, high = SYSCTL_BOUNDS[self.key]
        if not low <= self.value <= high:
            raise ValueError(f"{self.key}={self.value} is outside {low}..{high}")
        return self


class SetCgroupLimit(ActionParams):
    """Write ``value`` to a unit's cgroup v2 ``memory.high``, ``cpu.max`` or ``io.max``."""

    unit: UnitName
    file: Literal["memory.high", "cpu.max", "io.max"]
    value: Annotated[str, StringConstraints(max_length=120)]

    @model_validator(mode="after")
    def _value_format(self) -> SetCgroupLimit:
        if not CGROUP_VALUE[self.file].match(self.value):
            raise ValueError(f"{self.value!r} is not a valid {self.file} value")
        return self


class SetUnitProperty(ActionParams):
    """A systemd drop-in setting ``LimitNOFILE``, ``MemoryHigh`` or ``CPUQuota`` of a unit."""

    unit: UnitName
    property: Literal["LimitNOFILE", "MemoryHigh", "CPUQuota"]
    value: Annotated[str, StringConstraints(max_length=40)]

    @model_validator(mode="after")
    def _value_format(self) -> SetUnitProperty:
        if not PROPERTY_VALUE[self.property].match(self.value):
            raise ValueError(f"{self.value!r} is not a valid {self.property} value")
        return self


@dataclass(frozen=True)
class ActionSpec:
    """One catalogue entry: its parameter model and what acting means.

    ``lowers_use``: the action relieves a resource that is over-used (stop, clean, restart,
    limit); a rule must only pick it when use went up, never when it went down. ``on_node``:
    False for ``notify``, which sends no request. ``always_approval``: an operator approves it
    whatever the runbook or settings say.
    """

    name: str
    params: type[ActionParams]
    summary: str
    lowers_use: bool = False
    on_node: bool = True
    always_approval: bool = False
    tuning: bool = False  # verified against a metric, rolled back to the previous value if not


CATALOGUE: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("restart_unit", RestartUnit, "restart a systemd unit", lowers_use=True),
        ActionSpec("stop_process", StopProcess, "stop a runaway process", lowers_use=True),
        ActionSpec("drop_caches", DropCaches, "drop page caches", lowers_use=True),
        ActionSpec(
            "clean_files", CleanFiles, "delete old files under an allowlisted path", lowers_use=True
        ),
        ActionSpec(
            "limit_cgroup", LimitCgroup, "lower a cgroup's CPU or memory limit", lowers_use=True
        ),
        ActionSpec("call_webhook", CallWebhook, "POST the incident to a webhook"),
        ActionSpec("run_script", RunScript, "run an allowlisted script"),
        ActionSpec(
            "rollback", Rollback, "undo a change through the role's hook", always_approval=True
        ),
        ActionSpec(
            "set_sysctl", SetSysctl, "set an allowlisted sysctl", always_approval=True, tuning=True
        ),
        ActionSpec(
            "set_cgroup_limit",
            SetCgroupLimit,
            "set a unit's cgroup v2 memory.high, cpu.max or io.max",
            always_approval=True,
            tuning=True,
        ),
        ActionSpec(
            "set_unit_property",
            SetUnitProperty,
            "set a unit's LimitNOFILE, MemoryHigh or CPUQuota (drop-in)",
            always_approval=True,
            tuning=True,
        ),
        ActionSpec("notify", Notify, "page a human; nothing runs on a node", on_node=False),
    )
}
ACTION_NAMES = tuple(CATALOGUE)


def parse_params(action: str, params: dict[str, object]) -> ActionParams:
    """Validate ``params`` for ``action``.

    Raises
    ------
    ValueError
        When the action is not in the catalogue (naming the valid ones).
    pydantic.ValidationError
        When a parameter is missing, unknown or of the wrong type.
    """
    spec = CATALOGUE.get(action)
    if spec is None:
        raise ValueError(f"unknown action {action!r}; valid: {', '.join(ACTION_NAMES)}")
    return spec.params.model_validate(params)
