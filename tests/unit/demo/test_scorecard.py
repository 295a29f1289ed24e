"""Scorecard arithmetic: detected vs missed faults, false alarms, delays, dedup by id."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.demo.scorecard import Detection, IncidentSpan, InjectedFault, score_run
from pipeline.models import Incident
from tests.conftest import make_event

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fault(fault_id: str, nodes: set[str], metrics: tuple[str, ...], start: float, end: float):
    return InjectedFault(
        fault_id, fault_id.split("-")[0], frozenset(nodes), metrics, at(start), at(end)
    )


def det(
    event_id: str,
    node: str,
    metric: str | None,
    start: float,
    detected: float,
    contributors: tuple[str, ...] = (),
) -> Detection:
    return Detection(event_id, node, metric, at(start), at(start + 30), at(detected), contributors)


FAULTS = [
    fault("cpu-1", {"n1"}, ("cpu.*",), 100, 300),
    fault("deploy-1", {"w1", "w2", "w3"}, ("http.*", "cpu.usage_user"), 200, 400),
    fault("disk-1", {"n9"}, ("disk.*",), 100, 200),
]


def test_detected_missed_and_delays() -> None:
    detections = [
        det("a", "n1", "cpu.usage_user", 110, 125),  # detects cpu-1 after 25 s
        det("b", "n1", "cpu.usage_system", 140, 150),  # later; the first one counts
        det("c", "w2", "http.errors_per_s", 230, 260),  # detects deploy-1 after 60 s
        det("d", "w3", None, 250, 280, ("http.latency_ms",)),  # host-wide, by a contributor
        det("e", "w1", None, 250, 280, ("mem.used_percent",)),  # host-wide, not this fault's
    ]
    card = score_run(FAULTS, detections)
    assert (card.faults_injected, card.faults_detected, card.false_alarms) == (3, 2, 0)
    assert card.missed == ["disk-1"]
    assert card.median_detection_delay_s == pytest.approx(42.5)
    assert card.max_detection_delay_s == pytest.approx(60.0)
    deploy = next(o for o in card.faults if o.fault_id == "deploy-1")
    assert (deploy.first_event_id, deploy.nodes_detected, deploy.nodes) == ("c", 2, 3)


def test_false_alarms_are_outside_every_fault_node_or_span() -> None:
    detections = [
        det("other-node", "n2", "cpu.usage_user", 150, 160),
        det("before", "n1", "cpu.usage_user", 10, 20),  # window 10-40 ends before cpu-1 starts
        det("long-after", "n1", "cpu.usage_user", 300 + 121, 430),  # past the 120 s grace
        det("side-effect", "n1", "mem.used_percent", 150, 160),  # faulty node: not false
        det("in-grace", "n1", "cpu.usage_user", 350, 360),
    ]
    card = score_run(FAULTS, detections)
    assert card.false_alarms == 3
    assert card.faults_detected == 1
    # The wrong metric on the faulty node explains, but does not detect, the fault.
    assert card.faults[0].first_event_id == "in-grace"


def test_duplicates_count_once_and_incidents_actions_dedupe() -> None:
    detections = [det("a", "n1", "cpu.usage_user", 110, 125)] * 3
    card = score_run(FAULTS, detections, ["i1", "i1", "i2"], ["r1", "r1"])
    assert (card.anomaly_events, card.incidents, card.actions_proposed) == (1, 2, 1)


def span(incident_id: str, nodes: set[str], opened: float, last: float) -> IncidentSpan:
    return IncidentSpan(incident_id, frozenset(nodes), at(opened), at(last))


def test_incidents_on_no_faulty_node_while_open_are_false() -> None:
    incidents = [
        span("on-fault", {"n1"}, 120, 200),
        span("fleet-partly", {"w9", "w3"}, 390, 600),  # w3 is in deploy-1 (200-400)
        span("other-node", {"n2"}, 120, 200),
        span("too-late", {"n9"}, 200 + 121, 400),  # disk-1 ended at 200, grace 120 s
        span("before", {"n1"}, 10, 99),
    ]
    card = score_run(FAULTS, [], [*incidents, incidents[0], "plain-id"])
    assert (card.incidents, card.false_incidents) == (6, 3)


def test_incident_span_from_an_incident_message_covers_every_node() -> None:
    incident = Incident(
        incident_id="inc-1",
        dedup_key="fleet:role=web:cpu.usage_user:up",
        kind="fleet",
        status="updated",
        severity="warning",
        title="web: cpu.usage_user up",
        affected_nodes=["w1", "w2"],
        affected_count=2,
        event_count=4,
        opened_at=at(5),
        updated_at=at(9),
    )
    got = IncidentSpan.from_incident(incident)
    assert (got.node_ids, got.opened_at, got.last_at) == (frozenset({"w1", "w2"}), at(5), at(9))


def test_detection_before_the_fault_started_has_zero_delay() -> None:
    card = score_run([FAULTS[0]], [det("early", "n1", "cpu.usage_user", 90, 95)])
    assert card.faults[0].delay_s == 0.0


def test_nothing_detected_gives_no_delays_and_json_has_the_demo_keys() -> None:
    card = score_run(FAULTS, [])
    assert card.faults_detected == 0
    assert card.median_detection_delay_s is None and card.max_detection_delay_s is None
    encoded = json.loads(json.dumps(card.as_dict()))
    for key in ("faults_injected", "faults_detected", "false_alarms", "max_detection_delay_s",
                "anomaly_events", "incidents"):  # fmt: skip
        assert key in encoded
    assert len(encoded["faults"]) == 3


def test_detection_from_an_anomaly_event() -> None:
    event = make_event(node_id="n1", window_start_at=at(120), window_end_at=at(150))
    detection = Detection.from_event(event)
    assert (detection.node_id, detection.metric, detection.window_start_at) == (
        "n1", "cpu.usage_user", at(120),
    )  # fmt: skip
    assert detection.detected_at == event.detected_at


def test_fault_needs_nodes_and_a_positive_span() -> None:
    with pytest.raises(ValueError, match="no node"):
        fault("x-1", set(), (), 0, 10)
    with pytest.raises(ValueError, match="ends before"):
        fault("x-1", {"n"}, (), 10, 10)


def test_window_clock_measures_delay_in_data_time() -> None:
    # Replayed faster than real time: detected_at (wall clock) is far from the data's times.
    late_wall_clock = det("a", "n1", "cpu.usage_user", 110, 9_999)
    card = score_run([FAULTS[0]], [late_wall_clock], clock="window_end_at")
    assert card.faults[0].delay_s == pytest.approx(40.0)  # window 110-140, fault from 100
    assert score_run([FAULTS[0]], [late_wall_clock]).faults[0].delay_s == pytest.approx(9_899.0)


def test_fault_from_the_simulators_ground_truth_line() -> None:
    record = {
        "fault_id": "f1", "kind": "bad_deploy", "node_ids": ["w1", "w2"], "role": "web",
        "metrics": ["cpu.usage_user", "mem.used_percent"], "start_at": at(100).isoformat(),
        "end_at": at(300).isoformat(), "intensity": 1.0,
    }  # fmt: skip
    fault_record = InjectedFault.from_ground_truth(record)
    assert fault_record.node_ids == frozenset({"w1", "w2"})
    assert (fault_record.start_at, fault_record.metrics[0]) == (at(100), "cpu.usage_user")
    card = score_run([fault_record], [det("x", "w2", "mem.used_percent", 150, 170)])
    assert card.faults_detected == 1


def test_fault_times_need_a_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        InjectedFault("f", "k", frozenset({"n"}), (), datetime(2026, 1, 1), datetime(2026, 1, 2))  # noqa: DTZ001
