"""Run a host detector over columns of samples, exactly as the stream worker would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from pipeline.detect.base import HostDetector, HostScore

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HostRun:
    """Per row: the host score, the alert score the flag was decided on, and the flag.

    ``series`` (rows × metrics, in the order of the input columns) holds, when the run was asked
    to keep it, each series' place in the host's contributor ranking (``HostScore.contributors``,
    what a host event carries): the top contributor gets the number of metrics, the last 1.
    """

    score: Floats
    alert: Floats
    flag: npt.NDArray[np.bool_]
    series: Floats | None = None


def run_host(
    detector: HostDetector,
    times: list[datetime],
    metrics: dict[str, Floats],
    on_row: Callable[[], None] | None = None,
    keep_series: bool = False,
) -> HostRun:
    """Process every row in order; return what the detector said of each row.

    ``score`` is what the worker writes as the host's score series; ``alert`` is
    :attr:`pipeline.detect.base.HostScore.alert_score`, what a host AnomalyEvent's score is the
    peak of.
    """
    names = list(metrics)
    matrix = np.column_stack([metrics[n] for n in names]) if names else np.zeros((len(times), 0))
    score, alert = np.zeros(len(times)), np.zeros(len(times))
    flag = np.zeros(len(times), dtype=np.bool_)
    series = np.zeros(matrix.shape) if keep_series else None
    position = {n: i for i, n in enumerate(names)}
    for i, at in enumerate(times):
        result = detector.process_one(dict(zip(names, matrix[i].tolist(), strict=True)), at)
        score[i], alert[i], flag[i] = result.score, result.alert_score, result.flagged
        if series is not None:
            series[i] = _ranking(result, position)
        if on_row is not None:
            on_row()
    return HostRun(score, alert, flag, series)


def _ranking(result: HostScore, position: dict[str, int]) -> Floats:
    """Each input column's rank among the host's contributors (0 where not ranked)."""
    ranked = np.zeros(len(position))
    ordered = result.contributors(len(position))
    for place, series in enumerate(ordered):
        ranked[position[series.metric]] = len(ordered) - place
    return ranked
