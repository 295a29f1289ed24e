"""One question answered end to end, and the gold set scored on a database loaded for it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from pipeline.ask.aggregate import Answer, aggregate
from pipeline.ask.fetch import Row, fetch_rows
from pipeline.ask.gold import load_gold, score_gold, summarise
from pipeline.ask.llm import llm_query
from pipeline.ask.model import AskQuery
from pipeline.ask.parse import parse_question
from pipeline.ask.synthetic import NOW_AT, synthetic_points
from pipeline.ask.vocabulary import Vocabulary
from pipeline.ask.vocabulary_store import load_vocabulary
from pipeline.config import InfluxSettings
from pipeline.store.timerange import TimeRange

VOCABULARY_LOOKBACK = timedelta(days=30)  # names seen this far back can be asked about


def vocabulary_at(influx: InfluxSettings, now_at: datetime) -> Vocabulary:
    """The names the store holds over the lookback before ``now_at``."""
    return load_vocabulary(influx, TimeRange(now_at - VOCABULARY_LOOKBACK, now_at))


def answer_query(
    query: AskQuery, influx: InfluxSettings, vocabulary: Vocabulary, now_at: datetime
) -> Answer:
    """Run a typed query (parsed, or filled by an LLM and validated) and aggregate its rows."""
    return aggregate(query, fetch_rows(query, influx, vocabulary, now_at), now_at)


def ask(
    question: str, influx: InfluxSettings, now_at: datetime, llm_url: str | None = None
) -> Answer:
    """Parse ``question`` against the store's names and answer it.

    With ``llm_url`` the LLM there fills the query instead, validated the same way.

    Raises
    ------
    AskNotUnderstood
        When the question cannot be parsed (nothing is run then).
    QueryError
        When InfluxDB cannot answer.
    """
    vocabulary = vocabulary_at(influx, now_at)
    if llm_url:
        query = llm_query(question, vocabulary, llm_url)
    else:
        query = parse_question(question, vocabulary)
    return answer_query(query, influx, vocabulary, now_at)


def load_synthetic(influx: InfluxSettings) -> None:
    """Write the synthetic fleet history into ``influx.bucket`` (an empty database)."""
    with InfluxDBClient(url=influx.url, token=influx.token.get_secret_value(), org=influx.org,
                        timeout=influx.timeout_ms) as client:  # fmt: skip
        client.write_api(write_options=SYNCHRONOUS).write(influx.bucket, influx.org,
                                                          synthetic_points())  # fmt: skip


def evaluate_gold(influx: InfluxSettings) -> dict[str, Any]:
    """Score every gold question on ``influx`` (already loaded with :func:`load_synthetic`)."""
    vocabulary = vocabulary_at(influx, NOW_AT)

    def rows(query: AskQuery) -> list[Row]:
        return answer_query(query, influx, vocabulary, NOW_AT).rows

    return summarise(score_gold(load_gold(), vocabulary, rows))
