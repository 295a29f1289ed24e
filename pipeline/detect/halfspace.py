"""Half-space trees (Tan et al. 2011) with array state: River's algorithm, snapshot-friendly.

River's ``HalfSpaceTrees`` keeps one Python object per node (1.15 MB per default model) and cannot
be serialised without pickle; this keeps the same trees in four small arrays.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import numpy.typing as npt
from river.base import AnomalyDetector

Floats = npt.NDArray[np.float64]


class ArrayHalfSpaceTrees(AnomalyDetector):
    """Half-space trees over a fixed-length vector in [0, 1]; higher score = more anomalous.

    Parameters
    ----------
    n_features
        Length of the input vector; dict inputs are hashed onto it.
    n_trees
        Number of trees.
    height
        Depth of each tree.
    window_size
        Points per reference window; masses swap at the end of each window.
    seed
        Seed of the random splits.

    Examples
    --------
    >>> hst = ArrayHalfSpaceTrees(n_features=2, n_trees=8, height=4, window_size=50)
    >>> for i in range(200):
    ...     hst.learn_one({"a": 0.5 + 0.01 * (i % 3), "b": 0.5})
    >>> hst.score_one({"a": 0.51, "b": 0.5}) < hst.score_one({"a": 0.99, "b": 0.01})
    True
    """

    def __init__(
        self,
        n_features: int = 32,
        n_trees: int = 16,
        height: int = 6,
        window_size: int = 250,
        seed: int = 42,
    ) -> None:
        if min(n_features, n_trees, height, window_size) < 1:
            raise ValueError("n_features, n_trees, height and window_size must be >= 1")
        self.n_features = n_features
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self.feature, self.split = _build(n_features, n_trees, height, seed)
        nodes = 2 ** (height + 1) - 1
        self.reference = np.zeros((n_trees, nodes), dtype=np.int32)
        self.latest = np.zeros((n_trees, nodes), dtype=np.int32)
        self.counter = 0
        self.windows = 0
        self._trees = np.arange(n_trees)

    def path(self, u: Floats) -> npt.NDArray[np.intp]:
        """Node visited at each depth of each tree, shape (n_trees, height + 1)."""
        nodes = np.zeros((self.n_trees, self.height + 1), dtype=np.intp)
        node = nodes[:, 0]
        for depth in range(self.height):
            right = u[self.feature[self._trees, node]] > self.split[self._trees, node]
            node = 2 * node + 1 + right
            nodes[:, depth + 1] = node
        return nodes

    def score_vector(self, u: Floats) -> float:
        """Anomaly score in [0, 1] of one vector (0 until a reference window exists)."""
        if self.windows == 0:
            return 0.0
        nodes = self.path(u)
        mass = self.reference[self._trees[:, None], nodes]
        # Stop where a node holds too little reference mass to be trusted (as River does).
        small = mass < max(1, self.window_size // 10)
        small[:, -1] = True
        depth = np.argmax(small, axis=1)
        kept = mass[self._trees, depth] * (2.0**depth)
        normal = float(kept.sum()) / (self.n_trees * self.window_size * 2.0**self.height)
        return float(min(1.0, max(0.0, 1.0 - normal)))

    def learn_vector(self, u: Floats) -> None:
        """Add one vector to the latest window's masses."""
        nodes = self.path(u)
        self.latest[self._trees[:, None], nodes] += 1
        self.counter += 1
        if self.counter == self.window_size:
            self.reference, self.latest = self.latest, np.zeros_like(self.latest)
            self.counter = 0
            self.windows += 1

    def learn_one(self, x: dict[Any, Any]) -> None:
        """Learn a dict whose keys are hashed onto the feature vector."""
        self.learn_vector(self._vector(x))

    def score_one(self, x: dict[Any, Any]) -> float:
        """Score a dict whose keys are hashed onto the feature vector."""
        return self.score_vector(self._vector(x))

    def _vector(self, x: dict[Any, Any]) -> Floats:
        u = np.full(self.n_features, 0.5)
        for key, value in x.items():
            u[zlib.crc32(str(key).encode()) % self.n_features] = value
        return u

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that, with the constructor parameters, define the model."""
        return {
            "feature": self.feature,
            "split": self.split,
            "reference": self.reference,
            "latest": self.latest,
            "counters": np.array([self.counter, self.windows], dtype=np.int64),
        }

    def load(self, state: dict[str, np.ndarray]) -> None:
        """Restore the arrays written by :meth:`state`."""
        self.feature = state["feature"].astype(np.intp)
        self.split = state["split"].astype(np.float64)
        self.reference = state["reference"].astype(np.int32)
        self.latest = state["latest"].astype(np.int32)
        self.counter, self.windows = (int(v) for v in state["counters"])


def _build(
    n_features: int, n_trees: int, height: int, seed: int
) -> tuple[npt.NDArray[np.intp], Floats]:
    """Random feature and mid-range split of every internal node (work ranges as in the paper)."""
    rng = np.random.default_rng(seed)
    internal = 2**height - 1
    feature = np.zeros((n_trees, 2 ** (height + 1) - 1), dtype=np.intp)
    split = np.zeros((n_trees, 2 ** (height + 1) - 1))
    for t in range(n_trees):
        sq = rng.uniform(size=n_features)
        radius = 2.0 * np.maximum(sq, 1.0 - sq)
        lows = {0: sq - radius}
        highs = {0: sq + radius}
        for node in range(internal):
            f = int(rng.integers(n_features))
            lo, hi = lows.pop(node), highs.pop(node)
            mid = (lo[f] + hi[f]) / 2.0
            feature[t, node], split[t, node] = f, mid
            left_hi, right_lo = hi.copy(), lo.copy()
            left_hi[f], right_lo[f] = mid, mid
            lows[2 * node + 1], highs[2 * node + 1] = lo, left_hi
            lows[2 * node + 2], highs[2 * node + 2] = right_lo, hi
    return feature, split
