"""Incidents reach the real Alertmanager: routed per role, grouped, silenced there, resolved.

The incident stage runs in process (real tracker, real notifier thread) and posts to the
session's Alertmanager; a loopback HTTP receiver stands in for the pager Alertmanager notifies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pipeline.incidents.alert_sender import AlertmanagerNotifier
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.stage import IncidentStage
from pipeline.models import AnomalyEvent, utc_now
from tests.conftest import make_event
from tests.integration.alertmanager_support import (
    Pager,
    am_alerts,
    create_silence,
    routing_config,
    running_pager,
    wait_for,
)
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

GAP_S = 300


class Discard:
    """The stage's point sink: these tests read Alertmanager, not InfluxDB."""

    def add_many(self, points: object) -> None:
        pass


@pytest.fixture
def run() -> str:
    return f"r{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pager(stack: Stack, run: str) -> Iterator[Pager]:
    with running_pager() as pager:
        stack.configure_alertmanager(routing_config(run, pager.port))
        yield pager


@pytest.fixture
def stage(stack: Stack) -> Iterator[IncidentStage]:
    notifier = AlertmanagerNotifier(stack.alertmanager_url, resend_s=5)
    notifier.start()
    policy = GroupingPolicy(settle_s=0, gap_s=GAP_S, resolve_after_s=GAP_S)
    tracker = IncidentTracker(policy, Inventory())
    yield IncidentStage(tracker, None, Discard(), b"k" * 40, alerts=notifier)
    notifier.close()


def anomaly(node: str, role: str, run: str) -> AnomalyEvent:
    now = utc_now()
    return make_event(
        event_id=f"e-{node}-{run}",
        node_id=node,
        labels={"role": role, "zone": "z1", "team": run},
        window_start_at=now - timedelta(seconds=10),
        window_end_at=now,
    )


def fire(stage: IncidentStage, run: str, *nodes_roles: tuple[str, str]) -> None:
    """Anomalies on these nodes, then the tick that publishes their (settled) host incidents."""
    for node, role in nodes_roles:
        stage.on_anomaly(anomaly(node, role, run), utc_now())
    published = stage.tick(utc_now())
    assert {incident.node_id for incident in published.incidents} == {n for n, _ in nodes_roles}


def nodes(alerts: list[dict[str, object]]) -> set[str]:
    return {alert["labels"]["node"] for alert in alerts}  # type: ignore[index]


def test_web_and_db_incidents_reach_their_own_receivers_grouped(
    stage: IncidentStage, pager: Pager, run: str
) -> None:
    fire(stage, run, ("web-1", "web"), ("web-2", "web"), ("web-3", "web"), ("db-1", "db"))
    wait_for("three web alerts paged", lambda: len(nodes(pager.alerts("/web"))) == 3)
    wait_for("the db alert paged", lambda: nodes(pager.alerts("/db")) == {"db-1"})
    assert nodes(pager.alerts("/web")) == {"web-1", "web-2", "web-3"}
    grouped = max(pager.received("/web"), key=lambda body: len(body["alerts"]))
    assert len(grouped["alerts"]) == 3, "one notification carries the whole web group"
    assert grouped["groupLabels"]["role"] == "web"
    first = pager.alerts("/web")[0]
    assert first["labels"]["severity"] == "critical" and first["labels"]["kind"] == "host"
    assert first["labels"]["incident_id"] and first["annotations"]["summary"]


def test_a_silence_created_in_alertmanager_mutes(
    stack: Stack, stage: IncidentStage, pager: Pager, run: str
) -> None:
    silence_id = create_silence(stack.alertmanager_url, "node", "web-9")
    fire(stage, run, ("web-9", "web"), ("web-10", "web"))
    wait_for("the unsilenced alert paged", lambda: "web-10" in nodes(pager.alerts("/web")))
    muted = am_alerts(stack.alertmanager_url, f'team="{run}"')
    states = {a["labels"]["node"]: a["status"] for a in muted}
    assert states["web-9"]["state"] == "suppressed"
    assert states["web-9"]["silencedBy"] == [silence_id]
    assert "web-9" not in nodes(pager.alerts("/web")), "the silenced alert was paged"


def test_a_resolved_incident_resolves_in_alertmanager(
    stack: Stack, stage: IncidentStage, pager: Pager, run: str
) -> None:
    fire(stage, run, ("db-2", "db"))
    wait_for("the db alert paged", lambda: "db-2" in nodes(pager.alerts("/db", "firing")))
    output = stage.tick(utc_now(), utc_now() + timedelta(seconds=GAP_S + 60))
    assert [incident.status for incident in output.incidents] == ["resolved"]
    wait_for("the resolution paged", lambda: "db-2" in nodes(pager.alerts("/db", "resolved")))
    assert am_alerts(stack.alertmanager_url, f'team="{run}"') == []


def test_alerts_posted_while_alertmanager_is_down_arrive_when_it_is_back(
    stack: Stack, stage: IncidentStage, pager: Pager, run: str
) -> None:
    stack.restart_half("alertmanager", "down")
    try:
        fire(stage, run, ("web-20", "web"))
        assert stage.alerts is not None
        wait_for("a failed post", lambda: stage.alerts.counters.failed_posts > 0)  # type: ignore[union-attr]
    finally:
        stack.restart_half("alertmanager", "up")
    stack.configure_alertmanager(routing_config(run, pager.port))
    wait_for("the buffered alert paged", lambda: "web-20" in nodes(pager.alerts("/web")))
