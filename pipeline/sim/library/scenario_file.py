"""Scenario files: YAML anyone can write, validated by pydantic with errors that say where.

A file holds ``defaults`` and a list of ``scenarios``; each runs once per seed as one case::

    version: 1
    defaults: {nodes: 4, interval_s: 60, history_s: 7200, tail_s: 900}
    scenarios:
      - name: runaway-process        # case ids are <name>-s<seed>
        role: web                    # every node of the case has this role
        faults:
          - type: runaway_process    # one of FAULT_TYPES; the first fault is the one to diagnose
            # optional: process, unit (the culprit; default per type), node (culprit | peer |
            # an index), start_s (after the history; default a seeded 0-600 s), duration_s,
            # intensity (default 1, varied +-15 % per seed); bad_deploy also: share, version, who
          - type: packet_loss        # more faults overlap the first (on a peer by default)
            node: peer
            start_s: 900
        changes:                     # harmless changes: a rolling restart, nothing else
          - {kind: deploy, version: 2.3.1, who: ci, at_s: -1200}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from pipeline.errors import ConfigError

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Instance = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_-]{0,63}$")]
FaultTypeName = Literal[
    "runaway_process", "noisy_neighbour", "unit_memory_leak", "oom_kills", "swap_thrash",
    "fd_leak", "log_fills_disk", "io_saturation", "packet_loss", "network_latency", "crash_loop",
    "fork_storm", "bad_deploy",
]  # fmt: skip
RoleName = Literal["web", "db", "cache", "batch"]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(Strict):
    """Shared by every scenario of the file."""

    nodes: int = Field(4, ge=2, le=16, description="nodes per case: the culprit and its peers")
    interval_s: float = Field(60.0, ge=1, le=600)
    history_s: float = Field(7200.0, ge=600, description="normal life before the first fault")
    tail_s: float = Field(900.0, ge=0, description="after the first fault ends")


class FaultEntry(Strict):
    """One fault of a scenario."""

    type: FaultTypeName
    node: Literal["culprit", "peer"] | Annotated[int, Field(ge=0)] = "culprit"
    process: Instance | None = None
    unit: Instance | None = None
    start_s: float | None = Field(None, ge=0)
    duration_s: float | None = Field(None, gt=0)
    intensity: float = Field(1.0, gt=0, le=3)
    share: float = Field(0.5, gt=0, le=1, description="bad_deploy: share of the role it reaches")
    version: Annotated[str, StringConstraints(max_length=64)] = "2.0.0"
    who: Name = "ci"


class ChangeEntry(Strict):
    """A harmless change on the whole role, ``at_s`` from the first fault's start."""

    kind: Literal["deploy", "config", "package", "kernel"]
    version: Annotated[str, StringConstraints(max_length=64)] | None = None
    who: Name = "ci"
    at_s: float = -1200.0


class ScenarioEntry(Strict):
    """One scenario: a role's nodes, faults (the first is diagnosed), harmless changes."""

    name: Name
    role: RoleName
    nodes: int | None = Field(None, ge=2, le=16)
    faults: Annotated[list[FaultEntry], Field(min_length=1, max_length=4)]
    changes: Annotated[list[ChangeEntry], Field(max_length=8)] = Field(default_factory=list)


class ScenarioFile(Strict):
    """A whole file."""

    version: Literal[1] = 1
    defaults: Defaults = Field(default_factory=lambda: Defaults.model_validate({}))
    scenarios: Annotated[list[ScenarioEntry], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_names(self) -> ScenarioFile:
        names = [s.name for s in self.scenarios]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"scenario names must be unique; repeated: {', '.join(repeated)}")
        return self


def load_scenarios(path: Path) -> ScenarioFile:
    """Read and validate a scenario file.

    Raises
    ------
    ConfigError
        When the file is missing, not YAML, or invalid; the message names the file, the place
        (``scenarios[2].faults[0].type``) and the valid values.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'scenarios:' list at the top")
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:5]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        problems.append(f"{where.lstrip('.') or 'file'}: {error['msg']}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")
