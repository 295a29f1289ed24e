"""Where an evaluation set is: ``--data DIR``, else ``../shared/data/<set>`` beside the repo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from pipeline.errors import FleetwatchError

F = TypeVar("F", bound=Callable[..., object])

# The checkout this package runs from (an editable install); ../shared sits beside it in CI.
REPO_ROOT = Path(__file__).resolve().parents[2]

# Where each set can be fetched: the data is never shipped with fleetwatch.
SOURCES = {
    "nab": "NAB from https://github.com/numenta/NAB (the folder holding its data/ and labels/)",
    "asd": "ASD from https://github.com/zhhlee/InterFusion (data/), one omi-N_train.csv and "
    "omi-N_test.csv per server (columns m01..m19, the test file with a label column)",
}


def data_option(name: str) -> Callable[[F], F]:
    """The ``--data DIR`` option of the evaluation of set ``name`` (unset: None)."""
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help=f"The {name.upper()} folder [default: ../shared/data/{name} beside the repository].",
    )


def resolve(data_dir: Path | None, name: str, repo: Path = REPO_ROOT) -> Path:
    """``data_dir`` if given, else ``<repo>/../shared/data/<name>`` when that exists.

    Examples
    --------
    >>> resolve(Path("/data/nab"), "nab")
    PosixPath('/data/nab')

    Raises
    ------
    FleetwatchError
        When neither is there, saying where to get the set.
    """
    if data_dir is not None:
        return data_dir
    beside = repo.parent / "shared" / "data" / name
    if beside.is_dir():
        return beside
    raise FleetwatchError(
        f"no {name.upper()} data at {beside}: pass --data DIR; get {SOURCES[name]}"
    )
