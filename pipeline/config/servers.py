"""Where the servers are: Kafka, InfluxDB, and the names of the topics."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from pipeline.config.base import Section


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
