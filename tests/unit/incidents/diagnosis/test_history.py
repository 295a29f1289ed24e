from __future__ import annotations

import json

from pipeline.incidents.diagnosis.history import History, fixes_of
from pipeline.models import ActionOutcome, PastIncident


def past(incident_id: str, kind: str, signature: dict[str, float], **extra: object) -> PastIncident:
    return PastIncident(incident_id=incident_id, kind=kind, signature=signature, **extra)  # type: ignore[arg-type]


CPU = {"cpu.usage_idle": -3.0, "cpu.usage_user": 2.5, "mem.used_percent": 0.1}
MEM = {"cpu.usage_idle": -0.5, "cpu.usage_user": 0.2, "mem.used_percent": 3.0}


def test_nearest_past_incident_of_the_same_shape_comes_first() -> None:
    history = History([past("p1", "cpu_saturation", CPU), past("p2", "memory_leak", MEM)])
    query = {"cpu.usage_idle": -2.0, "cpu.usage_user": 2.0, "mem.used_percent": 0.3}
    neighbours = history.similar_many(query)
    assert [n.past.kind for n in neighbours] == ["cpu_saturation", "memory_leak"]
    assert history.kind_scores(neighbours)["cpu_saturation"] > 0.9


def test_metrics_moving_alike_in_every_incident_stop_deciding() -> None:
    # Every remembered incident shows the same big throughput dip. Plain cosine would call a CPU
    # incident and a memory one alike because of it; standardised over the history they are not.
    dip = {"app.requests_per_s": -6.0, "app.latency_ms": 6.0}
    records = [past(f"c{i}", "cpu_saturation", CPU | dip) for i in range(2)]
    records += [past(f"m{i}", "memory_leak", MEM | dip) for i in range(2)]
    query = {"cpu.usage_idle": -2.5, "cpu.usage_user": 2.0, "mem.used_percent": 0.3} | dip
    scores = History(records).kind_scores(History(records).similar_many(query))
    assert scores["cpu_saturation"] > 0.9 and scores.get("memory_leak", 0.0) < 0.2


def test_records_round_trip_through_json() -> None:
    history = History(
        [
            past(
                "p1",
                "dns_outage",
                CPU,
                text="resolver timeouts",
                actions=[ActionOutcome(action="restart_unit", worked=True)],
            )
        ]
    )
    encoded = json.dumps([r.model_dump(mode="json") for r in history.to_records()])
    restored = History.from_records(json.loads(encoded))
    assert restored.to_records() == history.to_records()


def test_a_later_confirmation_replaces_the_earlier() -> None:
    history = History([past("p1", "cpu_saturation", CPU)])
    history.add_one(past("p1", "load_spike", CPU))
    assert len(history) == 1 and history.to_records()[0].kind == "load_spike"


def test_fixes_count_what_worked_on_similar_incidents_of_the_kind() -> None:
    worked = [ActionOutcome(action="stop_process", worked=True)]
    failed = [ActionOutcome(action="stop_process", worked=False)]
    history = History(
        [
            past("a", "cpu_saturation", CPU, actions=worked),
            past("b", "cpu_saturation", CPU, actions=failed),
            past("c", "memory_leak", MEM, actions=worked),
        ]
    )
    assert fixes_of(history.similar_many(CPU), "cpu_saturation") == {"stop_process": (1, 2)}


def test_text_tips_between_equal_signatures() -> None:
    history = History(
        [
            past("a", "dns_outage", CPU, text="resolver timeouts on lookup"),
            past("b", "cpu_saturation", CPU, text="batch job spinning"),
        ]
    )
    top = history.similar_many(CPU, text="lookup timeouts from the resolver", limit=1)[0]
    assert top.past.kind == "dns_outage"
