"""Which series are bounded, and by what: decided by the metric name's suffix.

A series that can run out is watched for exhaustion (:mod:`pipeline.detect.series_watch`):

- a share of a limit, ending in ``used_percent`` (file systems, inodes, memory, swap) or
  ``fds_percent`` (open file descriptors against their limit), is exhausted at 100;
- a remaining amount, ending in ``free_bytes`` or ``available_bytes``, is exhausted at 0.

Everything else (rates, loads, temperatures) has no bound the detector knows of.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

UNBOUNDED, CEILING, FLOOR = 0, 1, 2
CEILING_SUFFIXES = ("used_percent", "fds_percent")
FLOOR_SUFFIXES = ("free_bytes", "available_bytes")


def bound_of(metric: str) -> int:
    """:data:`CEILING` (exhausted at 100), :data:`FLOOR` (at 0) or :data:`UNBOUNDED`.

    Examples
    --------
    >>> [bound_of(m) for m in ("disk.root.used_percent", "mem.available_bytes", "cpu.usage_user")]
    [1, 2, 0]
    """
    if metric.endswith(CEILING_SUFFIXES):
        return CEILING
    return FLOOR if metric.endswith(FLOOR_SUFFIXES) else UNBOUNDED


@lru_cache(maxsize=1024)
def bounds_of(metrics: tuple[str, ...]) -> npt.NDArray[np.int8]:
    """:func:`bound_of` for every metric of a batch (cached: a host repeats its key tuple)."""
    kinds = np.fromiter((bound_of(m) for m in metrics), dtype=np.int8, count=len(metrics))
    kinds.flags.writeable = False
    return kinds
