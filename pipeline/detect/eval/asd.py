"""ASD evaluation: warm up on ``train``, score ``test`` streaming, point-wise best-F1 and AP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.detect.eval.hitrate import hit_rate, read_segments
from pipeline.detect.eval.pointwise import (
    average_precision,
    best_f1,
    point_adjusted_f1,
    segment_figures,
)
from pipeline.detect.eval.series_csv import EPOCH, Floats, read_table
from pipeline.detect.eval.stream_run import run_host
from pipeline.detect.registry import make_host_detector
from pipeline.errors import FleetwatchError

INTERVAL_S = 300.0  # ASD rows are 5 minutes apart


@dataclass(frozen=True)
class ServerResult:
    """Figures of one server, with a random score's beside them."""

    server: str
    best_f1: float
    ap: float
    pa_f1: float
    random_best_f1: float
    random_ap: float
    random_pa_f1: float
    # Point-wise F1 of the flags the detector raised itself (no threshold from labels).
    f1_as_deployed: float = float("nan")
    # The same flags judged per labelled segment: a host alert is one per episode, so
    # point-wise F1 caps it at 2k / (k + labelled rows) for k alerts, whatever their aim.
    segments_found_as_deployed: float = float("nan")
    alert_precision_as_deployed: float = float("nan")
    hitrate_100: float = float("nan")
    hitrate_150: float = float("nan")


def servers(root: Path) -> list[str]:
    """Names of the servers (``omi-N``) that have both a train and a test file."""
    found = sorted(p.name[: -len("_test.csv")] for p in root.glob("*_test.csv"))
    found = [s for s in found if (root / f"{s}_train.csv").is_file()]
    if not found:
        raise FleetwatchError(f"{root}: no <server>_train.csv / <server>_test.csv pairs")
    return sorted(found, key=lambda s: (len(s), s))


def evaluate_server(
    root: Path, server: str, detector: str = "default", on_row: Callable[[], None] | None = None
) -> ServerResult:
    """Run a fresh detector over train then test (one stream) and score the test part."""
    train = read_table(root / f"{server}_train.csv", INTERVAL_S)
    test = read_table(root / f"{server}_test.csv", INTERVAL_S)
    if "label" not in test.header:
        raise FleetwatchError(f"{server}_test.csv has no label column")
    label_col = test.header.index("label")
    labels = np.array([row[label_col] == "1" for row in test.rows])
    names = list(train.metrics)
    times = [
        EPOCH + timedelta(seconds=INTERVAL_S * i) for i in range(len(train.rows) + len(test.rows))
    ]
    metrics = {n: np.concatenate([train.metrics[n], test.metrics[n]]) for n in names}
    # Point-wise scoring asks how anomalous each row is: the sustained host score.
    run = run_host(make_host_detector(detector), times, metrics, on_row, keep_series=True)
    ours = run.score[len(train.rows) :]
    noise = np.random.default_rng(0).uniform(size=len(ours))
    ranking = run.series if run.series is not None else np.zeros((len(run.score), len(names)))
    hits = _hit_rates(root, server, ranking[len(train.rows) :])
    found, precision = segment_figures(run.flag[len(train.rows) :], labels)
    return ServerResult(
        server,
        best_f1(ours, labels),
        average_precision(ours, labels),
        point_adjusted_f1(ours, labels),
        best_f1(noise, labels),
        average_precision(noise, labels),
        point_adjusted_f1(noise, labels),
        f1_as_deployed=f1_of(run.flag[len(train.rows) :], labels),
        segments_found_as_deployed=found,
        alert_precision_as_deployed=precision,
        hitrate_100=hits[0],
        hitrate_150=hits[1],
    )


def f1_of(flags: npt.NDArray[np.bool_], labels: npt.NDArray[np.bool_]) -> float:
    """F1 of fixed binary decisions.

    Examples
    --------
    >>> f1_of(np.array([True, True, False]), np.array([True, False, False]))
    0.6666666666666666
    """
    tp = float(np.sum(flags & labels))
    precision = tp / max(float(flags.sum()), 1.0)
    recall = tp / max(float(labels.sum()), 1.0)
    return 2 * precision * recall / (precision + recall) if tp else 0.0


def _hit_rates(root: Path, server: str, contributions: Floats) -> tuple[float, float]:
    """HitRate@100 % and @150 % of the series ranking (NaN without an interpretation label)."""
    path = root / "interpretation_label" / f"{server}.txt"
    if not path.is_file():
        return float("nan"), float("nan")
    segments = read_segments(path)
    rates = []
    for percent in (100.0, 150.0):
        total, rows = hit_rate(contributions, segments, percent)
        rates.append(total / rows if rows else float("nan"))
    return rates[0], rates[1]


def rows_of(root: Path, server: str) -> int:
    """Rows the evaluation of ``server`` processes (for progress bars)."""
    return sum(
        sum(1 for _ in (root / f"{server}_{part}.csv").open()) - 1 for part in ("train", "test")
    )


def mean(results: list[ServerResult], field: str) -> float:
    """Average of one figure over servers (those that have it: a server may lack HitRate)."""
    values = [getattr(r, field) for r in results if not np.isnan(getattr(r, field))]
    return float(np.mean(values)) if values else float("nan")
