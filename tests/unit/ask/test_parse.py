"""The offline parser: questions in English and Chinese → typed queries, refusals that explain."""

from __future__ import annotations

import pytest

from pipeline.ask.gold import load_gold
from pipeline.ask.model import AskQuery
from pipeline.ask.parse import parse_question
from pipeline.ask.synthetic import METRICS, ROLE_OF
from pipeline.ask.vocabulary import Vocabulary
from pipeline.errors import AskNotUnderstood

VOCABULARY = Vocabulary(tuple(sorted(ROLE_OF)), METRICS, dict(ROLE_OF))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("which web nodes had memory trouble since yesterday?",
         {"what": "anomalies", "roles": ["web"], "metrics": ["mem.*"], "aggregation": "top",
          "group_by": "node", "since": "yesterday"}),
        ("what fixed the last disk-full on db nodes?",
         {"what": "actions", "kinds": ["disk_full"], "roles": ["db"], "aggregation": "latest"}),
        ("过去三小时有多少严重异常", {"what": "anomalies", "aggregation": "count", "since": "3h",
                           "severities": ["critical"]}),
        ("前5个故障最多的节点", {"what": "incidents", "aggregation": "top", "group_by": "node",
                         "limit": 5}),
        ("cpu trend of web-1 in the last 2 days",  # a typo of web-01, matched by rapidfuzz
         {"what": "metrics", "nodes": ["web-01"], "metrics": ["cpu.*"], "aggregation": "trend",
          "since": "2d"}),
    ],
)  # fmt: skip
def test_questions_become_the_typed_query(question: str, expected: dict[str, object]) -> None:
    assert parse_question(question, VOCABULARY) == AskQuery.model_validate(expected)


def test_words_inside_other_words_do_not_count() -> None:
    """ "eta" (a forecast word) inside "details", "most" inside "almost", "fix" in "prefix"."""
    query = parse_question("details of almost all anomalies with a prefix", VOCABULARY)
    assert (query.what, query.aggregation) == ("anomalies", "list")


def test_a_question_without_subject_is_refused_with_what_was_understood() -> None:
    with pytest.raises(AskNotUnderstood) as refused:
        parse_question("what happened on db-02 in the last 6 hours?", VOCABULARY)
    assert refused.value.understood["nodes"] == "db-02"
    assert refused.value.understood["time"] == "in the last 6 hours"
    assert len(refused.value.suggestions) == 3


def test_an_unknown_node_is_refused_not_dropped() -> None:
    with pytest.raises(AskNotUnderstood, match="no node named 'mail-07'"):
        parse_question("how many anomalies on mail-07 today?", VOCABULARY)


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(AskNotUnderstood, match="no metric named 'gpu.temp'"):
        parse_question("anomalies of gpu.temp this week", VOCABULARY)


def test_the_closest_questions_share_words_with_the_question() -> None:
    with pytest.raises(AskNotUnderstood) as refused:
        parse_question("how many things went wrong in the last 6 hours?", VOCABULARY)
    assert refused.value.understood["aggregation"] == "count"
    assert any("how many" in suggestion for suggestion in refused.value.suggestions)


def test_development_questions_parse_to_their_gold_query() -> None:
    """The development split is what the parser was shaped on: every question must still pass."""
    wrong = [
        item.question
        for item in load_gold()
        if item.split == "development" and _parsed(item.question) != item.expected
    ]
    assert wrong == []


def test_gold_set_is_large_enough_and_bilingual() -> None:
    items = load_gold()
    heldback = [item for item in items if item.split == "heldback"]
    assert len(items) >= 150
    assert len(heldback) * 3 >= len(items)
    assert {item.lang for item in heldback} == {"en", "zh"}


def _parsed(question: str) -> AskQuery | None:
    try:
        return parse_question(question, VOCABULARY)
    except AskNotUnderstood:
        return None
