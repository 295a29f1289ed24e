"""NAB scoring from the published rules: windows, scaled sigmoid, profiles, normalisation.

Each detection is weighted by a scaled sigmoid of its position relative to the nearest window:
early in a window earns up to ``A_TP``, a detection after a window costs up to ``A_FP`` (less
right after the window), only the best (earliest) detection of a window counts, a missed window
costs ``A_FN``. The first 15 % of each file (at most 750 rows) is not scored. One threshold per
profile is chosen over the whole corpus; the sum is normalised so that null = 0, perfect = 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB application profile."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


def scaled_sigmoid(position: float) -> float:
    """NAB's weight of a detection at ``position`` (-1 = window start, 0 = end, > 0 = after)."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n_rows: int, percent: float = 0.15) -> int:
    """Rows at the start of a file that are not scored."""
    return int(min(math.floor(percent * n_rows), percent * 5000))


@dataclass(frozen=True)
class LabelledFile:
    """One file's rows as NAB sees them: window id per row (-1 outside) and unweighted scores."""

    window: npt.NDArray[np.int64]
    weight: Floats  # scaled sigmoid per row (TP weight inside a window, FP weight outside)
    scored: npt.NDArray[np.bool_]
    n_windows: int


def label_rows(n_rows: int, windows: list[tuple[int, int]]) -> LabelledFile:
    """Window membership and sigmoid weight of each row; ``windows`` are inclusive row ranges."""
    window = np.full(n_rows, -1, dtype=np.int64)
    weight = np.full(n_rows, -1.0)
    max_tp = scaled_sigmoid(-1.0)
    ordered = sorted(windows)
    for k, (left, right) in enumerate(ordered):
        width = right - left + 1
        for i in range(left, right + 1):
            window[i] = k
            weight[i] = scaled_sigmoid(-(right - i + 1) / width) / max_tp
        following = ordered[k + 1][0] if k + 1 < len(ordered) else n_rows
        for i in range(right + 1, following):
            weight[i] = scaled_sigmoid(abs(right - i) / max(1.0, width - 1.0))
    scored = np.arange(n_rows) >= probation_rows(n_rows)
    return LabelledFile(window, weight, scored, len(ordered))


def best_threshold_score(
    files: list[LabelledFile], scores: list[Floats], profile: Profile
) -> tuple[float, float]:
    """Sweep one threshold over the corpus; return (best raw score, its threshold)."""
    keys, file_ids, rows = [], [], []
    for f, (lab, s) in enumerate(zip(files, scores, strict=True)):
        idx = np.flatnonzero(lab.scored)
        keys.append(s[idx])
        file_ids.append(np.full(len(idx), f))
        rows.append(idx)
    all_scores = np.concatenate(keys) if keys else np.zeros(0)
    all_files, all_rows = np.concatenate(file_ids), np.concatenate(rows)
    order = np.argsort(-all_scores, kind="stable")
    total_windows = sum(lab.n_windows for lab in files)
    raw = -profile.fn * total_windows  # threshold above every score: nothing detected
    best, best_threshold = raw, math.inf
    tp_by_window: dict[tuple[int, int], float] = {}
    i = 0
    while i < len(order):
        threshold = all_scores[order[i]]
        while i < len(order) and all_scores[order[i]] == threshold:
            raw += _detect(files, all_files[order[i]], all_rows[order[i]], profile, tp_by_window)
            i += 1
        if raw > best:
            best, best_threshold = raw, float(threshold)
    return best, best_threshold


def _detect(
    files: list[LabelledFile],
    f: int,
    row: int,
    profile: Profile,
    tp_by_window: dict[tuple[int, int], float],
) -> float:
    """Change of the raw score when the detection at (file f, row) is added."""
    lab = files[f]
    k = int(lab.window[row])
    if k < 0:
        return float(lab.weight[row]) * profile.fp
    gain = float(lab.weight[row]) * profile.tp
    before = tp_by_window.get((f, k))
    if before is None:
        tp_by_window[(f, k)] = gain
        return gain + profile.fn
    if gain > before:
        tp_by_window[(f, k)] = gain
        return gain - before
    return 0.0


def normalised(raw: float, total_windows: int, profile: Profile) -> float:
    """100 × (raw − null) / (perfect − null); null detects nothing, perfect every window start."""
    null = -profile.fn * total_windows
    perfect = profile.tp * total_windows
    return 100.0 * (raw - null) / (perfect - null) if total_windows else 0.0


@dataclass(frozen=True)
class Tally:
    """Outcome of one file at a fixed threshold."""

    raw: float
    windows: int
    detected: int
    false_positives: int


def score_at(lab: LabelledFile, scores: Floats, threshold: float, profile: Profile) -> Tally:
    """Raw NAB score of one file when every score >= ``threshold`` is a detection."""
    detections = lab.scored & (scores >= threshold)
    outside = detections & (lab.window < 0)
    raw = float(lab.weight[outside].sum()) * profile.fp
    detected = 0
    for k in range(lab.n_windows):
        hits = detections & (lab.window == k)
        if hits.any():
            raw += float(lab.weight[hits].max()) * profile.tp
            detected += 1
        else:
            raw -= profile.fn
    return Tally(raw, lab.n_windows, detected, int(outside.sum()))
