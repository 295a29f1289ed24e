"""The incident stage's settings: grouping, runbook, request lifetime, notifications."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from pipeline.config.base import Section


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
    inventory_from_metrics: bool = Field(
        False,
        description="also learn nodes from metric batches (agents older than the inventory topic)",
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
    change_window_s: float = Field(
        900.0,
        ge=0.0,
        description="deviations of nodes a change reached this soon after it are one incident",
    )
    change_min_hosts: int = Field(
        2,
        ge=2,
        description="nodes a change reached that must deviate after it for one change incident",
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
