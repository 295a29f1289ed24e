"""Score a detector on the NAB corpus: run every file, then sweep each profile's threshold."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pipeline.detect.eval.nab_data import NabFile
from pipeline.detect.eval.nab_score import (
    PROFILES,
    best_threshold_score,
    label_rows,
    normalised,
    probation_rows,
    score_at,
)
from pipeline.detect.eval.series_csv import Floats
from pipeline.detect.eval.stream_run import run_host
from pipeline.detect.registry import make_host_detector


@dataclass
class NabReport:
    """Normalised scores per profile with their thresholds, and each folder's tallies."""

    scores: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    folders: dict[str, dict[str, float]] = field(default_factory=dict)
    # The same profiles scored on the flags the detector raised itself (no threshold from labels).
    as_deployed: dict[str, float] = field(default_factory=dict)
    deployed_detected: int = 0
    windows: int = 0
    # Alerts per series-day over the scored rows: at the swept standard threshold and as
    # deployed. Their ratio is the operating point's share of the gap between the two figures.
    alerts_per_day: float = 0.0
    alerts_per_day_as_deployed: float = 0.0


def score_corpus(
    corpus: list[NabFile],
    detector: str = "default",
    on_row: Callable[[], None] | None = None,
) -> tuple[list[Floats], NabReport]:
    """Run a fresh ``detector`` over every file and score the corpus on the three profiles."""
    # NAB counts detections (the first in a window, every one outside): the alert score, the
    # value production compares with the host threshold and reports as a host event's score.
    runs = [
        run_host(make_host_detector(detector), f.times, {"value": f.values}, on_row) for f in corpus
    ]
    scores = [run.alert for run in runs]
    result = report(corpus, scores)
    flags = [run.flag.astype(float) for run in runs]
    deployed(result, corpus, flags)
    swept = [s >= result.thresholds["standard"] for s in scores]
    result.alerts_per_day = alerts_per_day(corpus, swept)
    result.alerts_per_day_as_deployed = alerts_per_day(corpus, [f > 0 for f in flags])
    return scores, result


def alerts_per_day(corpus: list[NabFile], alerts: list[npt.NDArray[np.bool_]]) -> float:
    """Alerts per series-day over the scored rows of every file (NAB's probation left out).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> times = [datetime(2026, 1, 1) + timedelta(hours=h) for h in range(340)]
    >>> f = NabFile("a/b.csv", times, np.zeros(340), [])  # rows 51-339 scored: 12 days
    >>> alerts_per_day([f], [np.arange(340) % 24 == 23])
    1.0
    """
    count, days = 0, 0.0
    for f, alert in zip(corpus, alerts, strict=True):
        first = probation_rows(len(f.values))
        if first < len(f.times):
            count += int(alert[first:].sum())
            days += (f.times[-1] - f.times[first]).total_seconds() / 86_400.0
    return count / days if days else math.nan


def deployed(result: NabReport, corpus: list[NabFile], flags: list[Floats]) -> None:
    """Score the detector's own flags (1 where it raised one) on every profile, in place."""
    labelled = [label_rows(len(f.values), f.windows) for f in corpus]
    result.windows = sum(lab.n_windows for lab in labelled)
    for profile in PROFILES:
        tallies = [
            score_at(lab, flag, 0.5, profile) for lab, flag in zip(labelled, flags, strict=True)
        ]
        raw = sum(t.raw for t in tallies)
        result.as_deployed[profile.name] = normalised(raw, result.windows, profile)
        if profile.name == "standard":
            result.deployed_detected = sum(t.detected for t in tallies)


def report(corpus: list[NabFile], scores: list[Floats]) -> NabReport:
    """Corpus scores (one threshold per profile) and each folder's figures at those thresholds."""
    labelled = [label_rows(len(f.values), f.windows) for f in corpus]
    total = sum(lab.n_windows for lab in labelled)
    result = NabReport()
    for profile in PROFILES:
        raw, threshold = best_threshold_score(labelled, scores, profile)
        result.scores[profile.name] = normalised(raw, total, profile)
        result.thresholds[profile.name] = threshold
        for folder in sorted({f.folder for f in corpus}):
            picked = [i for i, f in enumerate(corpus) if f.folder == folder]
            tallies = [score_at(labelled[i], scores[i], threshold, profile) for i in picked]
            windows = sum(t.windows for t in tallies)
            row = result.folders.setdefault(folder, {})
            raw_folder = sum(t.raw for t in tallies)
            row[profile.name] = normalised(raw_folder, windows, profile) if windows else math.nan
            if profile.name == "standard":
                row["windows"] = windows
                row["detected"] = sum(t.detected for t in tallies)
                row["false_positives"] = sum(t.false_positives for t in tallies)
    return result
