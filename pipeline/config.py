"""Settings of every component, built once by the CLI and passed down; frozen after start-up.

Precedence is flag > environment > config file > default. A field's environment variable is derived
from its section and name, ``FLEETWATCH_<SECTION>_<FIELD>`` (e.g. ``FLEETWATCH_KAFKA_BOOTSTRAP``);
a config file is TOML with one table per section (``[kafka]``, ``[influx]``, ...).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pipeline.errors import ConfigError


def env_prefix(section: str) -> str:
    """Where a section's variables start, e.g. ``FLEETWATCH_KAFKA_`` for ``[kafka]``."""
    return f"FLEETWATCH_{section.upper()}_"


class Section(BaseSettings):
    """Base of every settings section: frozen, unknown keys rejected, env names derived."""

    section: ClassVar[str] = ""
    formerly: ClassVar[str] = ""  # the section whose variables these fields were read from
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Read each section's variables under ``FLEETWATCH_<SECTION>_``."""
        super().__pydantic_init_subclass__(**kwargs)
        cls.model_config["env_prefix"] = env_prefix(cls.section)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of ``field``, e.g. ``FLEETWATCH_KAFKA_BOOTSTRAP``."""
        return f"{cls.model_config['env_prefix']}{field}".upper()

    def environment(self) -> dict[str, str]:
        """The variables that rebuild these settings in a child process, secrets included.

        Settings travel to children in the environment, never as arguments, so that secrets
        stay out of ``ps`` and ``/proc/<pid>/cmdline``.
        """
        return {self.env_name(name): _env_value(value) for name, value in self if value is not None}


class KafkaSettings(Section):
    """How to reach the Kafka cluster (every component)."""

    section: ClassVar[str] = "kafka"

    bootstrap: str = Field("127.0.0.1:9092", description="host:port[,host:port]")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
    )
    sasl_username: str | None = Field(None, description="SASL user")
    sasl_password: SecretStr | None = Field(None, description="SASL password (never logged)")
    ssl_cafile: Path | None = Field(None, description="CA bundle")
    client_id: str = Field(
        "fleetwatch",
        description="client id shown in broker logs and quotas",
    )


class InfluxSettings(Section):
    """How to reach InfluxDB (worker, queries, reports)."""

    section: ClassVar[str] = "influx"

    url: str = Field("http://127.0.0.1:8086", description="InfluxDB base URL")
    token: SecretStr = Field(
        SecretStr(""),
        description="API token (InfluxDB 1.8: 'user:password' or empty)",
    )
    org: str = Field("-", description="'-' for InfluxDB 1.8")
    bucket: str = Field(
        "fleetwatch/autogen",
        description="'database/retention' for InfluxDB 1.8",
    )
    timeout_ms: int = Field(
        10_000,
        ge=100,
        description="HTTP timeout of one write or query",
    )


class TopicSettings(Section):
    """Topic naming and sizing shared by every component."""

    section: ClassVar[str] = "topics"

    prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]{0,64}$",
        description="prefix of every topic name, e.g. 'staging.'",
    )
    partitions: int = Field(8, ge=1, le=4096, description="for topics created missing")


class StreamSettings(Section):
    """The Faust stream worker."""

    section: ClassVar[str] = "stream"

    app_id: str = Field("fleetwatch-worker", description="consumer group")
    data_dir: Path = Field(
        Path("/tmp/fleetwatch-worker"),  # noqa: S108 - a default for development; set in production
        description="Faust tables and local state",
    )
    store: Literal["rocksdb", "memory"] = Field(
        "rocksdb", description="table store: rocksdb (rocksdict) or memory"
    )
    web_port: int = Field(
        6066,
        ge=0,
        le=65535,
        description="port of the worker's Prometheus /metrics",
    )
    detector: str = Field("default", description="name in pipeline.detect.registry")
    window_s: float = Field(60.0, gt=0, le=3600, description="anomaly window length")
    forecast_horizon_s: float = Field(
        21_600.0,
        gt=0,
        le=30 * 86_400,
        description="a bounded series (used_percent, free_bytes, ...) forecast to run out within "
        "this many seconds raises an event",
    )
    peer_label: str = Field(
        "role", description="label whose value makes a cohort of peers (empty: no peer stage)"
    )
    peer_round_s: float = Field(60.0, gt=0, le=3600, description="peer comparison round")
    snapshot_interval_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="most often a node's models are saved",
    )
    detail_every_s: float = Field(
        0.0,
        ge=0,
        description="raw metrics and scores to InfluxDB at most "
        "once per node per this many seconds of sample time (0: every batch)",
    )
    write_detail: bool = Field(True, description="write raw metrics and host scores")
    session_timeout_s: float = Field(10.0, ge=6, le=300, description="Kafka group session")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="of the worker's log (INFO shows each rebalance's assignment)"
    )
    sink_buffer_points: int = Field(
        200_000,
        ge=1000,
        description="points kept while InfluxDB is down",
    )
    fetch_partition_bytes: int = Field(
        4 * 1024**2,
        ge=64 * 1024,
        description="most bytes fetched per partition "
        "at once; at most this times the assigned partitions is held in memory",
    )
    state_write_buffer_bytes: int = Field(
        4 * 1024**2,
        ge=1024**2,
        description="RocksDB write buffer of each "
        "partition's model store (two at most, plus an 8 MiB block cache, per partition)",
    )
    chunk_max: int = Field(
        500,
        ge=1,
        le=100_000,
        description="most messages handled per pass of the agent",
    )
    chunk_wait_s: float = Field(
        0.05,
        gt=0,
        le=5,
        description="longest a message waits for its chunk to fill",
    )


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


class IncidentSettings(Section):
    """The incident stage: grouping, runbook, request lifetime, notifications."""

    section: ClassVar[str] = "incidents"
    formerly: ClassVar[str] = "remediation"

    runbook: Path | None = Field(
        None, description="YAML runbook; without one no requests are issued"
    )
    request_ttl_s: int = Field(
        600,
        ge=10,
        description="a request expires this long after issue",
    )
    alertmanager_url: str = Field(
        "",
        description="Alertmanager base URL incidents are posted to as alerts (empty: off)",
    )
    alertmanager_resend_s: float = Field(
        60.0,
        ge=1.0,
        description="re-send period of firing alerts",
    )
    subscription_labels: list[str] = Field(
        ["role", "team"],
        description="labels whose values key fleet.alerts besides the node (role:web)",
    )
    report_url: str = Field(
        "",
        description="report link of an alert, {incident_id} filled in",
    )
    group_labels: list[str] = Field(
        ["role", "service", "rack", "zone"],
        description="labels fleet incidents group by",
    )
    incident_gap_s: int = Field(
        300,
        ge=1,
        description="quiet time that resolves an incident",
    )
    settle_s: int = Field(30, ge=0, description="hold-down before a new incident is published")
    fleet_wait_s: int = Field(
        120,
        ge=0,
        description="most a host incident waits while peers of its cohort deviate alike",
    )
    fleet_min_hosts: int = Field(
        5,
        ge=2,
        description="hosts needed for a fleet incident",
    )
    fleet_min_share: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="group share for a fleet incident",
    )
    change_lookback_s: float = Field(
        1800.0,
        ge=0.0,
        description="a change this long before an incident opened is linked to it",
    )
    diagnosis_baseline_s: float = Field(
        900.0,
        ge=60.0,
        description="how much of a node's series before an incident is its diagnosis baseline",
    )
    diagnosis_every_s: int = Field(
        10,
        ge=1,
        description="series are averaged over this many seconds for the diagnosis",
    )
    false_positive_mute_s: float = Field(
        86_400.0,
        ge=0.0,
        description="a series dismissed as a false positive stays muted this long",
    )
    notify_url: str | None = Field(None, description="webhook notified of incidents")
    notify_per_minute: int = Field(
        30,
        ge=1,
        description="notifications per minute at most",
    )


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


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool | list | dict):  # read back as JSON, like every complex field
        return json.dumps(value, default=str)
    return str(value)


S = TypeVar("S", bound=Section)


def load(cls: type[S], config_file: Path | None = None, **flags: Any) -> S:
    """Build a settings section: flags (non-None) > environment > ``config_file`` table > default.

    Raises
    ------
    ConfigError
        When the file is unreadable or a value is invalid; the message names the bad field.
    """
    document = _read_document(config_file) if config_file else {}
    _refuse_old_names(cls, document)
    _refuse_removed(cls, document)
    file_values = _table(document, cls.section, config_file)

    class _WithFile(cls):  # type: ignore[valid-type,misc]  # a subclass per call binds the file
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, file_values))

    _WithFile.__name__ = cls.__name__
    try:
        return _WithFile(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"[{cls.section}] {field}: {first['msg']}") from None


def _refuse_old_names(cls: type[Section], document: dict[str, Any]) -> None:
    """A setting still under its name from before its section was split off fails loudly.

    Ignoring it would silently put a default in its place: a blast radius, a keyring.
    """
    split_off = [s for s in Section.__subclasses__() if cls.section in (s.section, s.formerly)]
    for section in (s for s in split_off if s.formerly):
        for name in section.model_fields:
            old_env = f"{env_prefix(section.formerly)}{name.upper()}"
            if old_env in os.environ:
                raise ConfigError(f"{old_env} is now {section.env_name(name)}")
            if name in document.get(section.formerly, {}):
                raise ConfigError(f"[{section.formerly}] {name} is now [{section.section}] {name}")


# Settings that no longer exist and would otherwise be ignored without a word.
REMOVED = {
    ("control", "hmac_key"): "the shared HMAC key is gone: requests and operator commands are "
    "signed with Ed25519 keys (`fleetwatch keys generate`; README, 'Signing keys')",
}


def _refuse_removed(cls: type[Section], document: dict[str, Any]) -> None:
    for (section, name), why in REMOVED.items():
        if section != cls.section:
            continue
        names = (
            f"FLEETWATCH_{section}_{name}".upper(),
            f"FLEETWATCH_{cls.formerly}_{name}".upper(),
        )
        if any(env in os.environ for env in names) or name in document.get(section, {}):
            raise ConfigError(f"{names[0]}: {why}")


def _read_document(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def _table(document: dict[str, Any], section: str, path: Path | None) -> dict[str, Any]:
    table = document.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    return table
