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


def deviations_of(node: NodeEvidence) -> dict[str, Deviation]:
    """Every metric's deviation on ``node`` (once per node, then memoised).

    A metric needs two finite values before the window and one in it. The baseline's standard
    deviation is floored (see ``RELATIVE_NOISE_FLOOR``); all metrics are computed at once.
    """
    cached = node.memo.get("deviations")
    if cached is None:
        cached = node.memo["deviations"] = _compute(node)
    return cached  # type: ignore[return-value]  # only this function writes the key


def _compute(node: NodeEvidence) -> dict[str, Deviation]:
    names = node.metrics()
    if not names:
        return {}
    matrix = np.column_stack([node.series[m] for m in names]).astype(float)
    before = _Columns(matrix[node.times_s < node.window_start_s])
    during = _Columns(matrix[node.in_window])
    floor = np.maximum(
        RELATIVE_NOISE_FLOOR * np.maximum(abs(before.mean), abs(during.mean)), ABSOLUTE_NOISE_FLOOR
    )
    noise = np.maximum(before.std, floor)
    z = (during.mean - before.mean) / noise
    onset = _onset_shares(during.values, before.mean + np.copysign(ONSET_SIGMAS * noise, z), z)
    usable = (before.count >= 2) & (during.count >= 1)
    return {
        m: Deviation(
            m,
            float(before.mean[i]),
            float(during.mean[i]),
            float(during.max[i]),
            float(during.last[i]),
            float(z[i]),
            float(onset[i]),
        )
        for i, m in enumerate(names)
        if usable[i]
    }


class _Columns:
    """Per-column figures of a block of rows, ignoring missing (non-finite) samples."""

    def __init__(self, values: FloatArray) -> None:
        self.values = values
        finite = np.isfinite(values)
        self.count = finite.sum(axis=0)
        safe = np.where(finite, values, 0.0)
        self.mean = safe.sum(axis=0) / np.maximum(self.count, 1)
        spread = np.where(finite, values - self.mean, 0.0)
        self.std = np.sqrt((spread**2).sum(axis=0) / np.maximum(self.count, 1))
        self.max = np.where(finite, values, -np.inf).max(axis=0, initial=-np.inf)
        last_row = np.where(finite, np.arange(len(values))[:, None], -1).max(axis=0, initial=-1)
        self.last = (
            np.where(
                last_row >= 0, safe[np.maximum(last_row, 0), np.arange(values.shape[1])], np.nan
            )
            if len(values)
            else np.full(values.shape[1], np.nan)
        )


def _onset_shares(during: FloatArray, level: FloatArray, z: FloatArray) -> FloatArray:
    """Per column, how far into the window it first stayed two rows past ``level``."""
    rows = len(during)
    if rows == 0:
        return np.zeros(during.shape[1])
    with np.errstate(invalid="ignore"):
        beyond = np.where(z >= 0, during >= level, during <= level)
    past = beyond[:-1] & beyond[1:] if rows > 1 else beyond  # one noisy sample is not an onset
    first = np.where(past.any(axis=0), past.argmax(axis=0), rows - 1)
    return first / max(rows - 1, 1)


def node_signature(node: NodeEvidence) -> Signature:
    """The signature of ``node``'s deviations (once per node, then memoised)."""
    cached = node.memo.get("signature")
    if cached is None:
        cached = node.memo["signature"] = signature_of(deviations_of(node))
    return cached  # type: ignore[return-value]  # only this function writes the key


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
