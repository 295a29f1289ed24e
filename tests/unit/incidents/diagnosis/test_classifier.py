from __future__ import annotations

from pipeline.incidents.diagnosis.classifier import MIN_EXAMPLES, KindClassifier
from pipeline.models import PastIncident

CPU = {"cpu.usage_idle": -3.0, "mem.used_percent": 0.1}
MEM = {"cpu.usage_idle": -0.2, "mem.used_percent": 3.0}


def jitter(signature: dict[str, float], i: int) -> dict[str, float]:
    return {m: v + 0.1 * ((i * 7 + len(m)) % 5 - 2) for m, v in signature.items()}


def test_learns_kinds_online_and_predicts_them() -> None:
    classifier = KindClassifier()
    for i in range(MIN_EXAMPLES + 1):
        classifier.learn_one(jitter(CPU, i), "cpu_saturation")
        classifier.learn_one(jitter(MEM, i), "memory_leak")
    proba = classifier.predict_proba_one({"cpu.usage_idle": -2.5, "mem.used_percent": 0.3})
    assert max(proba, key=proba.__getitem__) == "cpu_saturation"


def test_stays_silent_until_kinds_have_enough_examples() -> None:
    classifier = KindClassifier()
    for i in range(MIN_EXAMPLES - 1):
        classifier.learn_one(jitter(CPU, i), "cpu_saturation")
        classifier.learn_one(jitter(MEM, i), "memory_leak")
    assert classifier.predict_proba_one(CPU) == {}


def test_rebuilt_from_history_records() -> None:
    records = [
        PastIncident(incident_id=f"p{i}", kind=k, signature=jitter(s, i))
        for i in range(MIN_EXAMPLES)
        for k, s in (("a_kind", CPU), ("b_kind", MEM))
    ]
    proba = KindClassifier.from_history(records).predict_proba_one(MEM)
    assert set(proba) == {"a_kind", "b_kind"} and proba["b_kind"] > 0.5
