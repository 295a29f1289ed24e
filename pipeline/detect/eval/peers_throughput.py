"""Throughput of the peer stage's pure core on synthetic cohorts (``bench peers``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from pipeline.detect.cohort_level import CohortLevel
from pipeline.detect.peers import CohortModel
from pipeline.detect.rounds import NodeRounds

ROUND_S = 60.0


@dataclass(frozen=True)
class PeerBenchResult:
    """Node round summaries and metric values compared per second, on one core."""

    cohorts: int
    nodes_per_cohort: int
    metrics: int
    rounds: int
    summaries_per_s: float
    points_per_s: float
    batches_per_s: float
    open_values_per_cohort: int
    fleet_bytes_per_metric: int  # a cohort metric's line (the fleet verdict's state)


def bench_peers(
    cohorts: int = 10, nodes: int = 40, metrics: int = 64, rounds: int = 30, seed: int = 0
) -> PeerBenchResult:
    """Time both halves: nodes' batches into round means, then every cohort's comparison.

    Each node sends six batches a round (10 s sampling, 60 s rounds); one node per cohort drifts,
    so the verdict path runs too.
    """
    rng = np.random.default_rng(seed)
    names = [f"sim.m{i:03d}" for i in range(metrics)]
    node_rounds = NodeRounds(ROUND_S)
    models = [CohortModel(f"role=r{c}") for c in range(cohorts)]
    summaries = batches = 0
    elapsed = 0.0
    for step in range(rounds * 6):
        # A step's batches are built before the clock starts: decoding is the worker's cost.
        values = 50.0 + rng.normal(size=(cohorts, nodes, metrics))
        values[:, 0, :] += 0.5 * step  # one drifting node per cohort
        samples = [
            [dict(zip(names, values[c, n].tolist(), strict=True)) for n in range(nodes)]
            for c in range(cohorts)
        ]
        start = time.perf_counter()
        for c, model in enumerate(models):
            for n, sample in enumerate(samples[c]):
                done = node_rounds.add(f"r{c}-{n}", model.cohort, step * 10.0, sample)
                if done is not None:
                    model.add(done[0], done[2], done[3])
                    summaries += 1
        elapsed += time.perf_counter() - start
        batches += cohorts * nodes
    open_values = max(sum(len(v) * metrics for v in m.open.values()) for m in models)
    return PeerBenchResult(
        cohorts,
        nodes,
        metrics,
        rounds,
        summaries / elapsed,
        batches * metrics / elapsed,
        batches / elapsed,
        open_values,
        max(_line_bytes(level) for m in models for level in m.fleet.values()),
    )


def _line_bytes(level: CohortLevel) -> int:
    """Bytes of one cohort metric's line: the object and the numbers its slots hold."""
    fields = (getattr(level, name) for name in CohortLevel.__slots__)
    return sys.getsizeof(level) + sum(sys.getsizeof(f) for f in fields)
