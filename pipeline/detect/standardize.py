"""Each series' value in units of its own long-run spread: the host model's input vector.

The joint model asks "is this combination of values unusual?", so it reads values against their
long-run mean and standard deviation (exponentially weighted over the joint model's own horizon),
not the per-series model's residuals: those already lost whatever the level model absorbed.
Three floats per series.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]
Rows = npt.NDArray[np.intp] | slice
FIELDS = ("mean", "var", "count")


class LongRunScaler:
    """Streaming mean and variance per row; :meth:`process` standardizes, then learns.

    Parameters
    ----------
    alpha
        Forgetting rate once a series has more than ``1 / alpha`` samples (before: plain means).
    warmup
        Samples a series needs before its standardized value is other than 0.

    Examples
    --------
    >>> scaler = LongRunScaler(alpha=0.01, warmup=3)
    >>> scaler.grow(1)
    >>> for v in (1.0, 3.0, 1.0, 3.0):
    ...     _ = scaler.process(slice(0, 1), np.array([v]), learn=True)
    >>> round(float(scaler.process(slice(0, 1), np.array([6.0]), learn=False)[0]), 3)
    4.0
    """

    def __init__(self, alpha: float, warmup: int) -> None:
        self.alpha, self.warmup = alpha, warmup
        self.mean, self.var, self.count = np.zeros(0), np.zeros(0), np.zeros(0)

    def grow(self, rows: int) -> None:
        """Room for at least ``rows`` series (new rows start empty)."""
        for name in FIELDS:
            old = getattr(self, name)
            if len(old) < rows:
                new = np.zeros(rows)
                new[: len(old)] = old
                setattr(self, name, new)

    def reset(self, rows: npt.NDArray[np.intp]) -> None:
        """Forget the series in ``rows`` (new or evicted metrics)."""
        for name in FIELDS:
            getattr(self, name)[rows] = 0.0

    def process(self, rows: Rows, values: Floats, learn: bool) -> Floats:
        """``values`` standardized (0 where warming up or not finite); learns them if ``learn``."""
        index = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        return standardize(
            self.mean,
            self.var,
            self.count,
            index.astype(np.intp, copy=False),
            np.ascontiguousarray(values, dtype=np.float64),
            self.alpha,
            self.warmup,
            learn,
        )

    def arrays(self) -> tuple[Floats, Floats, Floats, float, int]:
        """Mean, variance, count, alpha and warm-up: what :func:`standardize` reads."""
        return self.mean, self.var, self.count, self.alpha, self.warmup

    def state(self, n: int) -> dict[str, Floats]:
        """The first ``n`` rows of each array, for snapshots."""
        return {name: getattr(self, name)[:n] for name in FIELDS}

    def load(self, state: dict[str, Floats], rows: int) -> None:
        """Restore :meth:`state` arrays, with room for ``rows`` series."""
        for name in FIELDS:
            setattr(self, name, state[name].astype(np.float64).copy())
        self.grow(rows)


@njit(cache=True)
def standardize(
    mean: Floats,
    var: Floats,
    count: Floats,
    rows: npt.NDArray[np.intp],
    values: Floats,
    alpha: float,
    warmup: int,
    learn: bool,
) -> Floats:
    """Standardize each value (0 while warming up or not finite), then learn it if ``learn``.

    One compiled pass over the rows (~10 NumPy calls before); row ``rows[i]`` holds ``values[i]``.
    """
    x = np.zeros(len(rows))
    for i in range(len(rows)):
        r, v = rows[i], values[i]
        if not np.isfinite(v):
            continue
        spread = np.sqrt(var[r]) + 1e-9 + 1e-6 * abs(mean[r])
        if count[r] >= warmup:
            x[i] = (v - mean[r]) / spread
        if learn:
            rate = max(alpha, 1.0 / (count[r] + 1.0))
            delta = v - mean[r]
            mean[r] += rate * delta
            var[r] = (1.0 - rate) * (var[r] + rate * delta * delta)
            count[r] += 1.0
    return x
