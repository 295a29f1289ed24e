"""Load the NAB corpus: every data file with its labelled windows as row ranges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from pipeline.detect.eval.series_csv import Floats, parse_time, read_table
from pipeline.errors import FleetwatchError


@dataclass(frozen=True)
class NabFile:
    """One NAB series and its anomaly windows (inclusive row ranges)."""

    name: str  # "<folder>/<file>.csv", as in the label files
    times: list[datetime]
    values: Floats
    windows: list[tuple[int, int]]

    @property
    def folder(self) -> str:
        """The NAB folder (data source) of the file."""
        return self.name.split("/", 1)[0]


def load_corpus(root: Path) -> list[NabFile]:
    """Every ``data/<folder>/<name>.csv`` under ``root`` with ``labels/combined_windows.json``.

    Raises
    ------
    FleetwatchError
        When the folders or the label file are missing, or a window matches no row.
    """
    labels_path = root / "labels" / "combined_windows.json"
    if not labels_path.is_file() or not (root / "data").is_dir():
        raise FleetwatchError(f"{root}: not a NAB folder (need data/ and {labels_path.name})")
    labels: dict[str, list[list[str]]] = json.loads(labels_path.read_text())
    corpus = []
    for path in sorted((root / "data").glob("*/*.csv")):
        name = path.relative_to(root / "data").as_posix()
        table = read_table(path)
        values = table.metrics.get("value", next(iter(table.metrics.values())))
        windows = [_rows(table.times, w, name) for w in labels.get(name, [])]
        corpus.append(NabFile(name, table.times, values, windows))
    if not corpus:
        raise FleetwatchError(f"{root}: no CSV files under data/")
    return corpus


def _rows(times: list[datetime], window: list[str], name: str) -> tuple[int, int]:
    """First and last row inside a labelled window."""
    stamps = np.array([t.timestamp() for t in times])
    start, end = (parse_time(w).timestamp() for w in window)
    inside = np.flatnonzero((stamps >= start) & (stamps <= end))
    if not len(inside):
        raise FleetwatchError(f"{name}: window {window} matches no row")
    return int(inside[0]), int(inside[-1])
