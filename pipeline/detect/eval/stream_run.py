"""Run a host detector over columns of samples, exactly as the stream worker would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import numpy.typing as npt

from pipeline.detect.base import HostDetector

Floats = npt.NDArray[np.float64]


def run_host(
    detector: HostDetector,
    times: list[datetime],
    metrics: dict[str, Floats],
    on_row: Callable[[], None] | None = None,
) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Process every row in order; return the host score and flag of each row."""
    names = list(metrics)
    matrix = np.column_stack([metrics[n] for n in names]) if names else np.zeros((len(times), 0))
    score = np.zeros(len(times))
    flag = np.zeros(len(times), dtype=np.bool_)
    for i, at in enumerate(times):
        result = detector.process_one(dict(zip(names, matrix[i].tolist(), strict=True)), at)
        score[i], flag[i] = result.score, result.flagged
        if on_row is not None:
            on_row()
    return score, flag
