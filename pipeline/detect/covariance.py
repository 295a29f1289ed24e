"""Streaming Mahalanobis distance of a host's residual vector: joint deviations of many series.

Each series' standardized residual (``z``) is folded onto a fixed-length vector; an exponentially
weighted mean and covariance of that vector give, with shrinkage toward the diagonal, a precision
matrix. The squared Mahalanobis distance per active feature is ~1 on normal data and grows when
series deviate together or when their usual relationship breaks, even if no single series does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]
# The common shift is chi-square with 1 degree of freedom on normal data (the per-feature
# distance averages many): scaled down so that both have about the same upper tail.
COMMON_WEIGHT = 3.0
STATE_FIELDS = ("mean", "cov", "scoring", "seen", "ready", "counters")


class ResidualCovariance:
    """Mahalanobis distance of folded residuals against their own streaming covariance.

    Parameters
    ----------
    n_features
        Length of the folded vector (series ``i`` lands on feature ``i % n_features``).
    alpha
        Forgetting rate of the mean and covariance after the first ``1 / alpha`` samples.
    shrinkage
        Weight of the diagonal in the regularised covariance (0 = full, 1 = diagonal only).
    refresh
        The precision matrix is recomputed every ``refresh`` learned samples (and at each of the
        first ``refresh``): inverting a small matrix now and then is cheaper than every step.
    warmup
        Samples a feature needs before it takes part in the distance.
    clip
        Residuals are clipped to ``[-clip, clip]`` so one wild value cannot wreck the covariance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> model = ResidualCovariance(n_features=4)
    >>> for _ in range(500):
    ...     common = rng.normal()
    ...     _ = model.process(common + 0.3 * rng.normal(size=4), learn=True)
    >>> together = model.process(np.full(4, 1.5), learn=False)
    >>> apart = model.process(np.array([1.5, -1.5, 1.5, -1.5]), learn=False)
    >>> bool(apart > 5 * together)
    True
    """

    def __init__(
        self,
        n_features: int = 32,
        alpha: float = 0.001,
        shrinkage: float = 0.05,
        refresh: int = 32,
        warmup: int = 100,
        clip: float = 10.0,
    ) -> None:
        if n_features < 1 or refresh < 1:
            raise ValueError("n_features and refresh must be >= 1")
        if not (0.0 < alpha < 1.0 and 0.0 <= shrinkage <= 1.0):
            raise ValueError(
                f"alpha must be in (0, 1) and shrinkage in [0, 1]: {alpha}, {shrinkage}"
            )
        self.n_features = n_features
        self.alpha = alpha
        self.shrinkage = shrinkage
        self.refresh = refresh
        self.warmup = warmup
        self.clip = clip
        self.mean = np.zeros(n_features)
        self.cov = np.eye(n_features)
        self.scoring = np.zeros((n_features, n_features))
        self.seen = np.zeros(n_features)
        self.ready = np.zeros(n_features)
        self.count = 0
        self._derive()

    def process(self, z: Floats, learn: bool, fold: npt.NDArray[np.intp] | None = None) -> float:
        """Squared distance of ``z`` per ready feature (0 until two features are ready).

        ``z[i]`` is added to feature ``fold[i]`` (default ``i``: one value per feature). Only the
        features some nonzero value fed in this batch are learned, each at its own warm-start
        rate, so a feature whose series are missing or still warming up is neither dragged toward
        0 nor learned too slowly later.
        """
        if fold is None:
            fold = np.arange(len(z), dtype=np.intp)
        distance = _distance_and_learn(
            np.ascontiguousarray(z, dtype=np.float64),
            fold,
            self.mean,
            self.cov,
            self.scoring,
            self.common,
            self.seen,
            (self.clip, self._n_ready, self._common_norm, self.alpha),
            learn,
        )
        if learn:
            self.count += 1
            if self.count % self.refresh == 0 or self.count < self.refresh:
                self._invert()
        return distance

    def _invert(self) -> None:
        """Shrunk, ridged inverse; features not yet ready are masked out of the distance."""
        diagonal = np.diag(self.cov)
        regular = (1.0 - self.shrinkage) * self.cov
        regular[np.diag_indices_from(regular)] = diagonal + 1e-3 * (1.0 + diagonal.mean())
        self.ready = (self.seen >= self.warmup).astype(np.float64)
        self.scoring = np.linalg.inv(regular) * np.outer(self.ready, self.ready)
        self._derive()

    def _derive(self) -> None:
        self._n_ready = float(self.ready.sum())
        self.common = self.scoring.sum(axis=0)
        self._common_norm = max(float(self.common.sum()), 1e-12)

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that, with the constructor parameters, define the model."""
        return {
            "mean": self.mean,
            "cov": self.cov,
            "scoring": self.scoring,
            "seen": self.seen,
            "ready": self.ready,
            "counters": np.array([self.count], dtype=np.int64),
        }

    def load(self, state: dict[str, np.ndarray]) -> None:
        """Restore the arrays written by :meth:`state`."""
        self.mean = state["mean"].astype(np.float64).copy()
        self.cov = state["cov"].astype(np.float64).copy()
        self.scoring = state["scoring"].astype(np.float64).copy()
        self.seen = state["seen"].astype(np.float64).copy()
        self.ready = state["ready"].astype(np.float64).copy()
        self._derive()
        self.count = int(state["counters"][0])


@njit(cache=True)
def _distance_and_learn(
    z: Floats,
    fold: npt.NDArray[np.intp],
    mean: Floats,
    cov: Floats,
    scoring: Floats,
    common: Floats,
    seen: Floats,
    knobs: tuple[float, float, float, float],
    learn: bool,
) -> float:
    """Fold ``z``, score it, then learn it, in one compiled pass (a dozen NumPy calls before).

    ``knobs`` are the clip, the number of ready features, the norm of the common direction and
    the forgetting rate.
    """
    clip, n_ready, common_norm, alpha = knobs
    k = len(mean)
    x, active = np.zeros(k), np.zeros(k)
    for i in range(len(z)):
        x[fold[i]] += z[i]
        if z[i] != 0.0:
            active[fold[i]] = 1.0
    d = np.empty(k)
    for j in range(k):
        d[j] = min(max(x[j], -clip), clip) - mean[j]
    distance = 0.0
    if n_ready >= 2:
        # Per-feature distance, or the common shift (every series moving together, the
        # generalised likelihood ratio along the all-ones direction), whichever is larger: a
        # small shift shared by many series is diluted in the former, not in the latter.
        shift, quadratic = 0.0, 0.0
        for i in range(k):
            shift += common[i] * d[i]
            row = 0.0
            for j in range(k):
                row += d[j] * scoring[j, i]
            quadratic += row * d[i]
        distance = max(quadratic / n_ready, shift * shift / common_norm / COMMON_WEIGHT)
    if learn:
        _learn_moments(mean, cov, seen, d, active, alpha)
    return max(distance, 0.0)


@njit(cache=True)
def _learn_moments(
    mean: Floats, cov: Floats, seen: Floats, d: Floats, active: Floats, alpha: float
) -> None:
    """One step of the weighted mean and covariance, in place (compiled: ~20 NumPy calls before).

    Feature ``i`` learns at its own warm-start rate; pair (i, j) at sqrt(rate_i * rate_j), so
    rows of inactive features are left alone.
    """
    n = len(d)
    rate = np.empty(n)
    root = np.empty(n)
    w = np.empty(n)
    for i in range(n):
        rate[i] = active[i] * max(alpha, 1.0 / (seen[i] + 1.0))
        mean[i] += rate[i] * d[i]
        root[i] = np.sqrt(rate[i])
        w[i] = np.sqrt(rate[i] * (1.0 - rate[i])) * d[i]
    for i in range(n):
        for j in range(n):
            cov[i, j] = cov[i, j] * (1.0 - root[i] * root[j])
            cov[i, j] = cov[i, j] + w[i] * w[j]
        seen[i] += active[i]
