"""Settings of every component, built once by the CLI and passed down; frozen after start-up.

Precedence is flag > environment > config file > default. Each section reads its own environment
prefix, e.g. ``FLEETWATCH_KAFKA_BOOTSTRAP`` or ``FLEETWATCH_INFLUX_URL``; a config file is TOML with
one table per section (``[kafka]``, ``[influx]``, ...).
"""

from __future__ import annotations

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


class Section(BaseSettings):
    """Base of every settings section: frozen, unknown keys rejected."""

    section: ClassVar[str] = ""
    model_config = SettingsConfigDict(frozen=True, extra="forbid")


class KafkaSettings(Section):
    """How to reach the Kafka cluster (every component)."""

    section: ClassVar[str] = "kafka"
    model_config = SettingsConfigDict(env_prefix="FLEETWATCH_KAFKA_")

    bootstrap: str = Field(
        "127.0.0.1:9092", description="FLEETWATCH_KAFKA_BOOTSTRAP: host:port[,host:port]"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="FLEETWATCH_KAFKA_SECURITY_PROTOCOL: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="FLEETWATCH_KAFKA_SASL_MECHANISM: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
    )
    sasl_username: str | None = Field(None, description="FLEETWATCH_KAFKA_SASL_USERNAME: SASL user")
    sasl_password: SecretStr | None = Field(
        None, description="FLEETWATCH_KAFKA_SASL_PASSWORD: SASL password (never logged)"
    )
    ssl_cafile: Path | None = Field(None, description="FLEETWATCH_KAFKA_SSL_CAFILE: CA bundle")
    client_id: str = Field(
        "fleetwatch",
        description="FLEETWATCH_KAFKA_CLIENT_ID: client id shown in broker logs and quotas",
    )


class InfluxSettings(Section):
    """How to reach InfluxDB (worker, queries, reports)."""

    section: ClassVar[str] = "influx"
    model_config = SettingsConfigDict(env_prefix="FLEETWATCH_INFLUX_")

    url: str = Field(
        "http://127.0.0.1:8086", description="FLEETWATCH_INFLUX_URL: InfluxDB base URL"
    )
    token: SecretStr = Field(
        SecretStr(""),
        description="FLEETWATCH_INFLUX_TOKEN: API token (InfluxDB 1.8: 'user:password' or empty)",
    )
    org: str = Field("-", description="FLEETWATCH_INFLUX_ORG ('-' for InfluxDB 1.8)")
    bucket: str = Field(
        "fleetwatch/autogen",
        description="FLEETWATCH_INFLUX_BUCKET ('database/retention' for InfluxDB 1.8)",
    )
    timeout_ms: int = Field(
        10_000,
        ge=100,
        description="FLEETWATCH_INFLUX_TIMEOUT_MS: HTTP timeout of one write or query",
    )


class TopicSettings(Section):
    """Topic naming and sizing shared by every component."""

    section: ClassVar[str] = "topics"
    model_config = SettingsConfigDict(env_prefix="FLEETWATCH_TOPICS_")

    prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]{0,64}$",
        description="FLEETWATCH_TOPICS_PREFIX: prefix of every topic name, e.g. 'staging.'",
    )
    partitions: int = Field(
        8, ge=1, le=4096, description="FLEETWATCH_TOPICS_PARTITIONS: for topics created missing"
    )


class StreamSettings(Section):
    """The Faust stream worker."""

    section: ClassVar[str] = "stream"
    model_config = SettingsConfigDict(env_prefix="FLEETWATCH_STREAM_")

    app_id: str = Field("fleetwatch-worker", description="FLEETWATCH_STREAM_APP_ID: consumer group")
    data_dir: Path = Field(
        Path("/tmp/fleetwatch-worker"),  # noqa: S108 - a default for development; set in production
        description="FLEETWATCH_STREAM_DATA_DIR: Faust tables and local state",
    )
    store: Literal["rocksdb", "memory"] = Field(
        "rocksdb", description="FLEETWATCH_STREAM_STORE: table store: rocksdb (rocksdict) or memory"
    )
    web_port: int = Field(
        6066,
        ge=0,
        le=65535,
        description="FLEETWATCH_STREAM_WEB_PORT: port of the worker's Prometheus /metrics",
    )
    detector: str = Field(
        "default", description="FLEETWATCH_STREAM_DETECTOR: name in pipeline.detect.registry"
    )
    window_s: float = Field(
        60.0, gt=0, le=3600, description="FLEETWATCH_STREAM_WINDOW_S: anomaly window length"
    )
    snapshot_interval_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="FLEETWATCH_STREAM_SNAPSHOT_INTERVAL_S: most often a node's models are saved",
    )
    detail_every_s: float = Field(
        0.0,
        ge=0,
        description="FLEETWATCH_STREAM_DETAIL_EVERY_S: raw metrics and scores to InfluxDB at most "
        "once per node per this many seconds of sample time (0: every batch)",
    )
    write_detail: bool = Field(
        True, description="FLEETWATCH_STREAM_WRITE_DETAIL: write raw metrics and host scores"
    )
    forward_remediation: bool = Field(
        False,
        description="FLEETWATCH_STREAM_FORWARD_REMEDIATION: turn critical anomalies directly into "
        "approval-gated RemediationRequests (until the incident logic does it)",
    )
    session_timeout_s: float = Field(
        10.0, ge=6, le=300, description="FLEETWATCH_STREAM_SESSION_TIMEOUT_S: Kafka group session"
    )
    sink_buffer_points: int = Field(
        200_000,
        ge=1000,
        description="FLEETWATCH_STREAM_SINK_BUFFER_POINTS: points kept while InfluxDB is down",
    )
    fetch_partition_bytes: int = Field(
        4 * 1024**2,
        ge=64 * 1024,
        description="FLEETWATCH_STREAM_FETCH_PARTITION_BYTES: most bytes fetched per partition "
        "at once; at most this times the assigned partitions is held in memory",
    )
    state_write_buffer_bytes: int = Field(
        4 * 1024**2,
        ge=1024**2,
        description="FLEETWATCH_STREAM_STATE_WRITE_BUFFER_BYTES: RocksDB write buffer of each "
        "partition's model store (two at most, plus an 8 MiB block cache, per partition)",
    )
    chunk_max: int = Field(
        500,
        ge=1,
        le=100_000,
        description="FLEETWATCH_STREAM_CHUNK_MAX: most messages handled per pass of the agent",
    )
    chunk_wait_s: float = Field(
        0.05,
        gt=0,
        le=5,
        description="FLEETWATCH_STREAM_CHUNK_WAIT_S: longest a message waits for its chunk to fill",
    )


class RemediationSettings(Section):
    """Incidents, signed remediation requests and the node-side executor."""

    section: ClassVar[str] = "remediation"
    model_config = SettingsConfigDict(env_prefix="FLEETWATCH_REMEDIATION_")

    hmac_key: SecretStr = Field(
        SecretStr(""),
        description="FLEETWATCH_REMEDIATION_HMAC_KEY: shared by issuer and agents, >= 32 chars",
    )
    apply: bool = Field(False, description="FLEETWATCH_REMEDIATION_APPLY: act (else dry-run)")
    runbook: Path | None = Field(None, description="FLEETWATCH_REMEDIATION_RUNBOOK: YAML file")
    request_ttl_s: int = Field(
        600,
        ge=10,
        description="FLEETWATCH_REMEDIATION_REQUEST_TTL_S: a request expires this long after issue",
    )
    allowed_actions: list[str] = Field(
        ["restart_unit", "stop_process", "drop_caches", "clean_files", "limit_cgroup"],
        description="FLEETWATCH_REMEDIATION_ALLOWED_ACTIONS: JSON list; others are refused",
    )
    approval_required: list[str] = Field(
        ["restart_unit", "clean_files", "limit_cgroup", "run_script"],
        description="FLEETWATCH_REMEDIATION_APPROVAL_REQUIRED: actions waiting for approve",
    )
    rate_limit_per_node: int = Field(
        3, ge=0, description="FLEETWATCH_REMEDIATION_RATE_LIMIT_PER_NODE: actions per window"
    )
    rate_window_s: int = Field(
        600,
        ge=1,
        description="FLEETWATCH_REMEDIATION_RATE_WINDOW_S: window of the per-node rate limit",
    )
    blast_max_nodes: int = Field(
        10, ge=0, description="FLEETWATCH_REMEDIATION_BLAST_MAX_NODES: per blast window"
    )
    blast_max_share: float = Field(
        0.2, ge=0.0, le=1.0, description="FLEETWATCH_REMEDIATION_BLAST_MAX_SHARE: of a group"
    )
    blast_window_s: int = Field(
        900,
        ge=1,
        description="FLEETWATCH_REMEDIATION_BLAST_WINDOW_S: window of the blast-radius guard",
    )
    process_allowlist: list[str] = Field(
        [], description="FLEETWATCH_REMEDIATION_PROCESS_ALLOWLIST: regexes of stoppable commands"
    )
    clean_roots: list[Path] = Field(
        [], description="FLEETWATCH_REMEDIATION_CLEAN_ROOTS: dirs clean_files may delete under"
    )
    scripts: dict[str, Path] = Field(
        {}, description="FLEETWATCH_REMEDIATION_SCRIPTS: JSON name -> absolute script path"
    )
    webhook_urls: list[str] = Field(
        [], description="FLEETWATCH_REMEDIATION_WEBHOOK_URLS: URLs call_webhook may POST to"
    )
    cgroup_root: Path = Field(
        Path("/sys/fs/cgroup"),
        description="FLEETWATCH_REMEDIATION_CGROUP_ROOT: cgroup v2 mount for limit actions",
    )
    drop_caches_path: Path = Field(
        Path("/proc/sys/vm/drop_caches"),
        description="FLEETWATCH_REMEDIATION_DROP_CACHES_PATH: file drop_caches writes to",
    )
    systemctl: Path = Field(
        Path("/usr/bin/systemctl"),
        description="FLEETWATCH_REMEDIATION_SYSTEMCTL: systemctl binary for restart_unit",
    )
    action_timeout_s: float = Field(
        30.0,
        gt=0,
        description="FLEETWATCH_REMEDIATION_ACTION_TIMEOUT_S: longest one action may run",
    )
    verify_timeout_s: float = Field(
        60.0,
        gt=0,
        description="FLEETWATCH_REMEDIATION_VERIFY_TIMEOUT_S: wait for recovery after acting",
    )
    state_dir: Path = Field(
        Path("/tmp/fleetwatch-remediation"),  # noqa: S108 - a default for development
        description="FLEETWATCH_REMEDIATION_STATE_DIR: seen nonces, executed requests",
    )
    notify_url: str | None = Field(None, description="FLEETWATCH_REMEDIATION_NOTIFY_URL: webhook")
    notify_per_minute: int = Field(
        30,
        ge=1,
        description="FLEETWATCH_REMEDIATION_NOTIFY_PER_MINUTE: notifications per minute at most",
    )
    group_labels: list[str] = Field(
        ["role", "service", "rack", "zone"],
        description="FLEETWATCH_REMEDIATION_GROUP_LABELS: labels fleet incidents group by",
    )
    incident_gap_s: int = Field(
        300,
        ge=1,
        description="FLEETWATCH_REMEDIATION_INCIDENT_GAP_S: quiet time that resolves an incident",
    )
    settle_s: int = Field(30, ge=0, description="FLEETWATCH_REMEDIATION_SETTLE_S: hold-down")
    fleet_min_hosts: int = Field(
        5,
        ge=2,
        description="FLEETWATCH_REMEDIATION_FLEET_MIN_HOSTS: hosts needed for a fleet incident",
    )
    fleet_min_share: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="FLEETWATCH_REMEDIATION_FLEET_MIN_SHARE: group share for a fleet incident",
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
)
_COLLECTOR_LIST = rf"^({'|'.join(AGENT_COLLECTORS)})(,({'|'.join(AGENT_COLLECTORS)}))*$"


class AgentSettings(Section):
    """The node agent (``fleetwatch agent``)."""

    section: ClassVar[str] = "agent"
    model_config = SettingsConfigDict(env_prefix="FLEETWATCH_AGENT_")

    node_id: str = Field(
        "",
        pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,252})?$",
        description="FLEETWATCH_AGENT_NODE_ID: key of this node's batches ('' = the hostname)",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description='FLEETWATCH_AGENT_LABELS: JSON, e.g. {"role": "web", "zone": "z1"}',
    )
    interval_s: float = Field(
        10.0,
        ge=1.0,
        le=3600,
        description="FLEETWATCH_AGENT_INTERVAL_S: seconds between sampling rounds (>= 1)",
    )
    collectors: str = Field(
        ",".join(AGENT_COLLECTORS),
        pattern=_COLLECTOR_LIST,
        description="FLEETWATCH_AGENT_COLLECTORS: comma-separated subset of "
        + ",".join(AGENT_COLLECTORS),
    )
    watch_units: list[str] = Field(
        default_factory=list,
        description='FLEETWATCH_AGENT_WATCH_UNITS: JSON list, e.g. ["nginx.service"]',
    )
    spool_dir: Path = Field(
        Path.home() / ".local" / "state" / "fleetwatch" / "agent-spool",
        description="FLEETWATCH_AGENT_SPOOL_DIR: batches not yet acknowledged by Kafka",
    )
    spool_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=64 * 1024,
        description="FLEETWATCH_AGENT_SPOOL_MAX_BYTES: oldest batches are dropped beyond this",
    )
    compression: Literal["auto", "zstd", "lz4", "snappy", "gzip", "none"] = Field(
        "auto", description="FLEETWATCH_AGENT_COMPRESSION: auto = best codec installed, else gzip"
    )
    send_timeout_s: float = Field(
        10.0, gt=0, le=300, description="FLEETWATCH_AGENT_SEND_TIMEOUT_S: wait for acks=all"
    )
    shutdown_timeout_s: float = Field(
        10.0, ge=0, le=300, description="FLEETWATCH_AGENT_SHUTDOWN_TIMEOUT_S: flush on SIGTERM"
    )
    proc_root: Path = Field(
        Path("/proc"),
        description="FLEETWATCH_AGENT_PROC_ROOT: host /proc (e.g. /host/proc in a container)",
    )
    sys_root: Path = Field(Path("/sys"), description="FLEETWATCH_AGENT_SYS_ROOT: host /sys")
    rootfs: Path = Field(
        Path("/"), description="FLEETWATCH_AGENT_ROOTFS: host / (e.g. /host in a DaemonSet)"
    )
    run_root: Path = Field(Path("/run"), description="FLEETWATCH_AGENT_RUN_ROOT: host /run")

    @property
    def collector_names(self) -> tuple[str, ...]:
        """Enabled collectors in the order given, without repeats."""
        return tuple(dict.fromkeys(self.collectors.split(",")))


S = TypeVar("S", bound=Section)


def load(cls: type[S], config_file: Path | None = None, **flags: Any) -> S:
    """Build a settings section: flags (non-None) > environment > ``config_file`` table > default.

    Raises
    ------
    ConfigError
        When the file is unreadable or a value is invalid; the message names the bad field.
    """
    file_values = _read_table(config_file, cls.section) if config_file else {}

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


def _read_table(path: Path, section: str) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    table = document.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    return table
