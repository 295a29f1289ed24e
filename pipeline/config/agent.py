"""The node agent's settings (``fleetwatch agent``): collectors and how it samples and publishes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from pipeline.config.base import Section

AGENT_COLLECTORS = (
    "cpu",
    "load",
    "mem",
    "pressure",
    "disk",
    "net",
    "processes",
    "services",
    "temp",
    "top",
    "units",
)
_COLLECTOR_LIST = rf"^({'|'.join(AGENT_COLLECTORS)})(,({'|'.join(AGENT_COLLECTORS)}))*$"


class AgentSettings(Section):
    """The node agent (``fleetwatch agent``)."""

    section: ClassVar[str] = "agent"

    node_id: str = Field(
        "",
        pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,252})?$",
        description="key of this node's batches ('' = the hostname)",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description='JSON, e.g. {"role": "web", "zone": "z1"}',
    )
    interval_s: float = Field(
        10.0,
        ge=1.0,
        le=3600,
        description="seconds between sampling rounds (>= 1)",
    )
    inventory_refresh_s: float = Field(
        300.0,
        ge=10.0,
        le=86_400.0,
        description="this node's labels are re-published to the inventory topic this often",
    )
    collectors: str = Field(
        ",".join(AGENT_COLLECTORS),
        pattern=_COLLECTOR_LIST,
        description="comma-separated subset of " + ",".join(AGENT_COLLECTORS),
    )
    watch_units: list[str] = Field(
        default_factory=list,
        description='JSON list, e.g. ["nginx.service"]',
    )
    top_n: int = Field(
        5,
        ge=1,
        le=10,
        description="processes and units reported per ranking (CPU, memory, open files, I/O) "
        "and round",
    )
    top_hold_rounds: int = Field(
        30,
        ge=0,
        le=360,
        description="rounds a process or unit stays reported after it left the top",
    )
    spool_dir: Path = Field(
        Path.home() / ".local" / "state" / "fleetwatch" / "agent-spool",
        description="batches not yet acknowledged by Kafka",
    )
    spool_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=64 * 1024,
        description="oldest batches are dropped beyond this",
    )
    compression: Literal["auto", "zstd", "lz4", "snappy", "gzip", "none"] = Field(
        "auto", description="auto = best codec installed, else gzip"
    )
    send_timeout_s: float = Field(10.0, gt=0, le=300, description="wait for acks=all")
    shutdown_timeout_s: float = Field(10.0, ge=0, le=300, description="flush on SIGTERM")
    proc_root: Path = Field(
        Path("/proc"),
        description="host /proc (e.g. /host/proc in a container)",
    )
    sys_root: Path = Field(Path("/sys"), description="host /sys")
    rootfs: Path = Field(Path("/"), description="host / (e.g. /host in a DaemonSet)")
    run_root: Path = Field(Path("/run"), description="host /run")

    @property
    def collector_names(self) -> tuple[str, ...]:
        """Enabled collectors in the order given, without repeats."""
        return tuple(dict.fromkeys(self.collectors.split(",")))
