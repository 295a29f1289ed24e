"""The peer stage in the worker: nodes' round summaries by cohort, then cohorts compared.

Each batch the detection agent decodes is also summarised (a batch observer of the worker):
each node's mean over a round goes to ``fleet.peers``, keyed by the node's cohort
(``role=web``), so that every summary of one cohort reaches one worker; the ``compare_peers``
agent runs that cohort's :class:`pipeline.detect.peers.CohortModel` and sends what it finds to
``fleet.anomalies``. Both are stateless across restarts on purpose: a round is a minute, and a
cohort's fleet level re-warms within ``fleet_warmup`` rounds.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from pipeline.detect.peers import CohortModel, PeerParams, PeerVerdict
from pipeline.detect.rounds import NodeRounds
from pipeline.detect.windowing import severity
from pipeline.errors import InvalidMessage
from pipeline.models import (
    CULPRIT_PREFIXES,
    AnomalyEvent,
    MetricBatch,
    PeerSummary,
    decode,
    encode,
)
from pipeline.stream.worker import Worker

log = logging.getLogger(__name__)
MAX_COHORTS = 4096
DETECTOR = "peer_mad"


class PeerStage:
    """What the two agents keep: open node rounds and one model per cohort (both bounded)."""

    def __init__(self, label: str, round_s: float) -> None:
        self.label, self.round_s = label, round_s
        self.rounds = NodeRounds(round_s)
        self.cohorts: OrderedDict[str, CohortModel] = OrderedDict()

    def summary(self, batch: MetricBatch) -> PeerSummary | None:
        """The summary of the round ``batch`` closed for its node, if any (None: no cohort)."""
        value = batch.labels.get(self.label)
        if value is None:
            return None
        cohort = f"{self.label}={value}"
        # Peers compare node-level series only: one node's top processes and units are not its
        # peers' (other names, other members each round), and a process apart from other
        # nodes' processes is no node fault; diagnosis reads them to name the culprit.
        metrics = {k: v for k, v in batch.metrics.items() if not k.startswith(CULPRIT_PREFIXES)}
        done = self.rounds.add(batch.node_id, cohort, batch.sampled_at.timestamp(), metrics)
        if done is None:
            return None
        node_id, cohort, round_s, means = done
        round_at = datetime.fromtimestamp(round_s, UTC)
        return PeerSummary(node_id=node_id, cohort=cohort, round_at=round_at, metrics=means)

    def compare(self, summary: PeerSummary) -> list[AnomalyEvent]:
        """Add ``summary`` to its cohort; events of the round it closed, if any."""
        model = self.cohorts.get(summary.cohort)
        if model is None:
            model = CohortModel(summary.cohort, PeerParams(round_s=self.round_s))
            self.cohorts[summary.cohort] = model
            if len(self.cohorts) > MAX_COHORTS:
                self.cohorts.popitem(last=False)
        self.cohorts.move_to_end(summary.cohort)
        verdicts = model.add(summary.node_id, summary.round_at.timestamp(), summary.metrics)
        return [peer_event(v, self.round_s) for v in verdicts]


def peer_event(verdict: PeerVerdict, round_s: float) -> AnomalyEvent:
    """The AnomalyEvent of a verdict; a fleet one is keyed by its cohort as a node id.

    Examples
    --------
    >>> v = PeerVerdict("fleet", "role=web", None, "cpu.usage_user", 0.0, 70.0, 40.0, 2.0, 15.0)
    >>> event = peer_event(v, 60.0)
    >>> event.node_id, event.kind, event.cohort
    ('cohort-role.web', 'fleet', 'role=web')
    """
    node_id = verdict.node_id or "cohort-" + re.sub(r"[^A-Za-z0-9._-]", ".", verdict.cohort)
    start = datetime.fromtimestamp(verdict.round_s, UTC)
    # A robust z squashed into [0, 1) as the detectors squash theirs; the bar is z_threshold.
    score = abs(verdict.z) / (abs(verdict.z) + 5.0)
    key = f"{verdict.kind}\x00{verdict.cohort}\x00{node_id}\x00{verdict.metric}\x00{start}"
    return AnomalyEvent(
        event_id="evt-" + hashlib.sha256(key.encode()).hexdigest()[:32],
        node_id=node_id[:253],
        labels=dict([verdict.cohort.split("=", 1)]) if "=" in verdict.cohort else {},
        scope="series",
        metric=verdict.metric,
        kind=verdict.kind,
        cohort=verdict.cohort,
        window_start_at=start,
        window_end_at=start + timedelta(seconds=round_s),
        score=score,
        threshold=0.5,
        observed=verdict.observed,
        expected=verdict.expected,
        expected_low=verdict.expected - 5.0 * verdict.spread,
        expected_high=verdict.expected + 5.0 * verdict.spread,
        detector=DETECTOR,
        severity=severity(score, 0.5),
    )


def register_peers(worker: Worker, summaries: faust.TopicT) -> PeerStage | None:
    """Attach the peer stage to the worker (nothing when no peer label is set).

    Each batch the detection agent decoded is summarised into its node's round (a batch
    observer: a second agent on ``fleet.metrics`` cost a second Faust delivery and decode of
    every message, ~20 % of the worker's throughput); ``compare_peers`` reads ``summaries``,
    the topic on ``fleet.peers``.
    """
    settings = worker.settings
    if not settings.peer_label:
        return None
    app, stage = worker.app, PeerStage(settings.peer_label, settings.peer_round_s)

    async def summarise_round(batch: MetricBatch) -> None:
        try:
            summary = stage.summary(batch)
        except ValueError as exc:  # a valid batch the rounds cannot place: log, detect on
            log.warning("peer round skipped for %s: %s", batch.node_id, exc)
            return
        if summary is not None:
            await summaries.send(key=summary.cohort.encode(), value=encode(summary))

    worker.batch_observers.append(summarise_round)

    @app.agent(summaries, name=f"{__name__}.compare_peers")
    async def compare_peers(stream: Any) -> Any:
        async for raw in stream:
            try:
                events = stage.compare(decode(PeerSummary, raw))
            except (InvalidMessage, ValueError) as exc:
                log.warning("peer summary dropped: %s", exc)  # written by us: a bug, not input
                events = []
            for anomaly in events:
                await worker.anomalies_topic.send(
                    key=anomaly.node_id.encode(), value=encode(anomaly)
                )
            worker.meters.anomalies.inc(len(events))
            yield len(events)

    return stage
