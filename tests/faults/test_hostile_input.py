"""Hostile input end to end against a real worker: each message dead-lettered with a reason or
handled as documented (RELIABILITY.md), other nodes' data untouched, the worker never crashes.

Complements tests/integration/test_worker.py (garbage, nesting, NaN, unknown fields, 900 kB).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from pipeline import topics
from pipeline.bench.worker_process import WorkerProcess
from pipeline.bus import make_producer
from pipeline.config import InfluxSettings, TopicSettings
from pipeline.models import DeadLetter, MetricBatch, decode, encode
from tests.faults.conftest import PrivateStack
from tests.faults.fleet import expected_keys, stored_host_scores
from tests.integration.test_worker import read_rows, read_topic
from tests.unit.stream.workload import batch_at
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(300)]
AT = "2026-01-01T00:00:00Z"


def _raw(**fields: Any) -> bytes:
    return json.dumps(
        {"node_id": "hx", "sampled_at": AT, "metrics": {"cpu.a": 1.0}} | fields
    ).encode()


# (what, message, a word the dead letter's reason must contain)
DEAD: list[tuple[str, bytes, str]] = [
    ("metrics as a list", _raw(metrics=[1, 2]), "metrics"),
    ("node id as a number", _raw(node_id=42), "node_id"),
    ("value as an object", _raw(metrics={"cpu.a": {"v": 1}}), "cpu.a"),
    ("negative seq", _raw(seq=-1), "seq"),
    ("label value as a number", _raw(labels={"role": 3}), "labels"),
    ("+inf", _raw().replace(b"1.0", b"1e999"), "finite"),
    ("-Infinity", _raw().replace(b"1.0", b"-Infinity"), "finite"),
    ("newline in a metric name", _raw(metrics={"cpu.a\nb x=1": 1.0}), "metrics"),
    ("space in a metric name", _raw(metrics={"cpu.a b": 1.0}), "metrics"),
    ("comma/equals in a metric name", _raw(metrics={"cpu.a,host=x": 1.0}), "metrics"),
    ("quote in a metric name", _raw(metrics={'cpu.a"': 1.0}), "metrics"),
    ("backslash in a metric name", _raw(metrics={"cpu.a\\": 1.0}), "metrics"),
    ("control char in a label value", _raw(labels={"role": "web\x07"}), "labels"),
    ("backslash in a label value", _raw(labels={"role": "web\\"}), "labels"),
    ("line protocol in a label key", _raw(labels={"a b=1": "x"}), "labels"),
    ("2049 metrics", _raw(metrics={f"cpu.m{i}": 1.0 for i in range(2049)}), "metrics"),
    ("sampled_at with no zone", _raw(sampled_at="2026-01-01T00:00:00"), "sampled_at"),
    (
        "5 MiB, gzip-compressed to pass the broker",
        b'{"pad": "' + b"a" * (5 << 20) + b'"}',
        "exceeds",
    ),
]

PLAIN_HUGE = ("2 MiB, uncompressed", b"{" + b" " * (2 << 20) + b"}", "exceeds")
SPECIAL_LABEL = "a,b=c d\"e'f #x"  # every line-protocol special a label value may hold


def _handled() -> list[MetricBatch]:
    """Valid but odd batches, processed as documented (node ``hz-*``)."""
    thousands = batch_at("hz-wide", 0).model_copy(
        update={"metrics": {f"app.m{i}": float(i) for i in range(2000)}}
    )
    special = batch_at("hz-label", 0).model_copy(update={"labels": {"role": SPECIAL_LABEL}})
    past = batch_at("hz-past", 0).model_copy(
        update={"sampled_at": batch_at("x", 0).sampled_at.replace(year=1971)}
    )
    future = batch_at("hz-future", 0).model_copy(
        update={"sampled_at": batch_at("x", 0).sampled_at.replace(year=2200)}
    )
    extreme = batch_at("hz-year1", 0).model_copy(
        update={"sampled_at": batch_at("x", 0).sampled_at.replace(year=1)}
    )
    order = [batch_at("hz-order", seq) for seq in (0, 1, 3, 2, 4)]  # 3 before 2
    duplicate = batch_at("hz-dup", 0)
    return [thousands, special, past, future, extreme, *order, duplicate, duplicate]


def test_hostile_messages_are_refused_or_handled_and_the_worker_survives(
    private_stack: PrivateStack,
    fault_topics: TopicSettings,
    fault_influx: InfluxSettings,
    start_fault_worker: Callable[[str], WorkerProcess],
) -> None:
    kafka, topic = private_stack.kafka, topics.METRICS.name(fault_topics.prefix)
    worker = start_fault_worker("w0")
    good = [batch_at(f"hg-{i}", seq) for seq in range(20) for i in range(3)]
    handled = _handled()
    producer = make_producer(kafka, compression_type="gzip", max_request_size=16 << 20)
    try:
        for batch in good[:30]:
            producer.send(topic, key=batch.node_id.encode(), value=encode(batch))
        for _, raw, _ in DEAD:
            producer.send(topic, key=b"hx", value=raw)
        for batch in handled:
            producer.send(topic, key=batch.node_id.encode(), value=encode(batch))
        for batch in good[30:]:
            producer.send(topic, key=batch.node_id.encode(), value=encode(batch))
        producer.flush(timeout=60)
    finally:
        producer.close()

    # Uncompressed too: the broker's limit (4 MiB in deploy/local) lets it through to the worker.
    plain = make_producer(kafka, max_request_size=16 << 20)
    try:
        plain.send(topic, key=b"hx", value=PLAIN_HUGE[1]).get(timeout=30)
    finally:
        plain.close()

    deadletter_topic = topics.DEADLETTER.name(fault_topics.prefix)
    letters = wait_for(
        lambda: (
            (found := [decode(DeadLetter, r) for r in read_topic(kafka, deadletter_topic)])
            and len(found) > len(DEAD)
            and found
        ),
        120,
        "every dead letter",
    )
    assert len(letters) == len(DEAD) + 1, [letter.reason for letter in letters]
    in_order = sorted(letters, key=lambda x: x.offset)
    for (what, _, word), letter in zip([*DEAD, PLAIN_HUGE], in_order, strict=True):
        assert word in letter.reason, f"{what}: reason {letter.reason!r} lacks {word!r}"
        assert letter.topic == topic

    normal = expected_keys(good + [b for b in handled if b.node_id != "hz-year1"])
    try:
        wait_for(lambda: normal <= stored_host_scores(fault_influx, "^h[gz]-"), 90, "stored")
    except AssertionError:
        pass  # the assertion below names what is missing
    stored = stored_host_scores(fault_influx, "^h[gz]-")
    assert normal <= stored, f"missing: {sorted(normal - stored)[:5]}"
    assert worker.alive, "the worker crashed"
    metrics = worker.metrics()
    assert metrics["fleetwatch_dead_letters_total"] == len(DEAD) + 1
    # The duplicate (same batch_id, a re-send) is learned once and counted as such.
    assert metrics["fleetwatch_batches_total"] == len(good) + len(handled) - 1
    assert metrics["fleetwatch_duplicate_batches_total"] == 1

    wide = [r for r in read_rows(fault_influx, "metrics", "^hz-wide$") if r["_field"] == "value"]
    assert len(wide) == 2000
    (row,) = [r for r in read_rows(fault_influx, "scores", "^hz-label$") if r["metric"] == "_host"]
    assert row["role"] == SPECIAL_LABEL, "a label was mangled or injected"
    assert (
        set(row)
        - {
            "result",
            "table",
            "_start",
            "_stop",
            "_time",
            "_value",
            "_field",
            "_measurement",
            "node",
            "metric",
            "detector",
            "role",
        }
        == set()
    )
