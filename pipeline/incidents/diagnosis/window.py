"""Find an incident window in a node's series when nobody marked one."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

# The first part of the series is taken as normal: an incident seen by a detector has history
# before it, and a third leaves the rest for the incident and any recovery after it.
BASELINE_SHARE = 1 / 3
# A deviation of more than 10 robust sigmas counts no more than 10: one wild metric must not
# outweigh many moderate ones.
Z_CAP = 10.0
SMOOTH_ROWS = 5


def find_window(
    times_s: npt.NDArray[np.float64], series: Mapping[str, npt.NDArray[np.float64]]
) -> tuple[float, float]:
    """The span where the node deviates most from its first third, as (start_s, end_s).

    Each row is scored by the mean capped robust z of all metrics against the baseline; the window
    is the longest run of rows scoring above halfway between the usual score and the peak.
    """
    rows = len(times_s)
    if rows < 6 or not series:
        return float(times_s[0]), float(times_s[-1]) + 1.0
    score = _smooth(_row_scores(series, max(3, int(rows * BASELINE_SHARE))))
    level = (float(np.median(score)) + float(score.max())) / 2
    start, end = _longest_run(score > level)
    step_s = float(np.median(np.diff(times_s)))
    return float(times_s[start]), float(times_s[end - 1]) + step_s


def _row_scores(
    series: Mapping[str, npt.NDArray[np.float64]], baseline_rows: int
) -> npt.NDArray[np.float64]:
    columns = []
    for values in series.values():
        base = values[:baseline_rows]
        base = base[np.isfinite(base)]
        if base.size < 3:
            continue
        median = float(np.median(base))
        scale = 1.4826 * float(np.median(np.abs(base - median))) or float(np.std(base)) or 1.0
        columns.append(np.minimum(np.abs(np.nan_to_num(values - median) / scale), Z_CAP))
    return np.mean(columns, axis=0) if columns else np.zeros(len(next(iter(series.values()))))


def _smooth(score: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    kernel = np.ones(SMOOTH_ROWS) / SMOOTH_ROWS
    return np.convolve(score, kernel, mode="same")


def _longest_run(mask: npt.NDArray[np.bool_]) -> tuple[int, int]:
    best, start = (0, len(mask)), None
    best_len = 0
    for index, flag in enumerate([*mask.tolist(), False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            if index - start > best_len:
                best, best_len = (start, index), index - start
            start = None
    return best
