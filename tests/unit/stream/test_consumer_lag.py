"""Consumer lag counts the input topic only, never the changelog partitions a worker holds."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types import TP

from pipeline.stream.worker import consumer_lag


def _app(highwater: dict[TP, int], read: dict[TP, int]) -> SimpleNamespace:
    consumer = SimpleNamespace(assignment=lambda: set(highwater), highwater=highwater.__getitem__)
    return SimpleNamespace(consumer=consumer, monitor=SimpleNamespace(tp_read_offsets=read))


def test_lag_sums_unread_messages_of_the_input_topic_only() -> None:
    metrics0, metrics1 = TP("p.fleet.metrics", 0), TP("p.fleet.metrics", 1)
    changelog = TP("app-node-models-changelog", 0)
    app = _app({metrics0: 100, metrics1: 50, changelog: 10_000}, {metrics0: 89})
    # partition 0: offsets 90..99 unread; partition 1: nothing read yet, 0..49 unread
    assert consumer_lag(app, "p.fleet.metrics") == 10 + 50  # type: ignore[arg-type]


def test_no_consumer_yet_means_no_lag() -> None:
    def not_started() -> set[TP]:
        raise RuntimeError("consumer not started")

    app = SimpleNamespace(consumer=SimpleNamespace(assignment=not_started))
    assert consumer_lag(app, "p.fleet.metrics") == 0  # type: ignore[arg-type]
