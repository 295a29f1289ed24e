"""Deviation signatures: how far each metric moved in the window, in units of its usual noise."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pipeline.incidents.diagnosis.evidence import FloatArray, NodeEvidence

# A baseline standard deviation is never taken below 1 % of the metric's level: a counter that sat
# still for a minute is not infinitely precise, and without a floor a constant metric that moves
# by one unit would outweigh every other metric.
RELATIVE_NOISE_FLOOR = 0.01
ABSOLUTE_NOISE_FLOOR = 1e-6

ONSET_SIGMAS = 3.0

Signature = dict[str, float]


@dataclass(frozen=True)
class Deviation:
    """One metric of one node: its level before and during the window, and the z between them."""

    metric: str
    before_mean: float
    window_mean: float
    window_max: float
    window_last: float
    z: float
    onset_share: float = 0.0

    # ``onset_share``: how far into the window (0 = at its start, 1 = at its end) the metric first
    # stayed two rows past three baseline sigmas in the direction of ``z``.

    @property
    def direction(self) -> str:
        """``up`` or ``down``."""
        return "up" if self.z >= 0 else "down"


def deviation_of(node: NodeEvidence, metric: str) -> Deviation | None:
    """The deviation of ``metric`` on ``node``; None when it lacks rows before or in the window."""
    before, during = node.before(metric), node.during(metric)
    if before.size < 2 or during.size < 1:
        return None
    before_mean, window_mean = float(before.mean()), float(during.mean())
    floor = max(
        RELATIVE_NOISE_FLOOR * max(abs(before_mean), abs(window_mean)), ABSOLUTE_NOISE_FLOOR
    )
    noise = max(float(before.std()), floor)
    z = (window_mean - before_mean) / noise
    onset = _onset_share(during, before_mean + math.copysign(ONSET_SIGMAS * noise, z), z >= 0)
    return Deviation(
        metric, before_mean, window_mean, float(during.max()), float(during[-1]), z, onset
    )


def _onset_share(during: FloatArray, level: float, up: bool) -> float:
    # Two rows in a row past the level: one noisy sample is not an onset.
    beyond = during >= level if up else during <= level
    past = beyond[:-1] & beyond[1:] if len(beyond) > 1 else beyond
    first = int(np.argmax(past)) if past.any() else len(during) - 1
    return first / max(len(during) - 1, 1)


def deviations_of(node: NodeEvidence) -> dict[str, Deviation]:
    """Every metric's deviation on ``node`` that can be computed."""
    found = (deviation_of(node, metric) for metric in node.metrics())
    return {d.metric: d for d in found if d is not None}


def signature_of(deviations: Mapping[str, Deviation]) -> Signature:
    """Signed, log-compressed z per metric: the pattern of what moved, not how far in sigmas.

    Magnitudes of z are heavy-tailed (a quiet counter moves by thousands of sigmas); log1p keeps
    their order while letting the set of metrics that moved, and their direction, decide.
    """
    return {m: math.copysign(math.log1p(abs(d.z)), d.z) for m, d in deviations.items()}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity over the metric names both signatures hold (0 when none is shared)."""
    shared = sorted(a.keys() & b.keys())
    if not shared:
        return 0.0
    va = np.fromiter((a[m] for m in shared), float, len(shared))
    vb = np.fromiter((b[m] for m in shared), float, len(shared))
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / norm if norm > 0 else 0.0


def strength(signature: Mapping[str, float]) -> float:
    """Euclidean norm of a signature: how much a node moved overall."""
    return math.sqrt(sum(v * v for v in signature.values()))
