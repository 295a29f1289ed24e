"""Detector names → factories, and restoring any detector from its snapshot bytes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from pipeline.detect.base import HostDetector
from pipeline.detect.host import KIND as ROBUST_KIND
from pipeline.detect.host import RobustHostDetector
from pipeline.detect.river_host import KIND as RIVER_KIND
from pipeline.detect.river_host import RiverHostDetector
from pipeline.detect.snapshot import decode_snapshot

DETECTORS: dict[str, Callable[..., HostDetector]] = {
    "default": RobustHostDetector,
    # River's own detectors, one per series (pipeline.detect.river_host).
    "river-hst": partial(RiverHostDetector, "hst"),
    "river-gaussian": partial(RiverHostDetector, "gaussian"),
}
_RESTORERS: dict[str, Callable[[bytes], HostDetector]] = {
    ROBUST_KIND: RobustHostDetector.restore,
    RIVER_KIND: RiverHostDetector.restore,
}


def make_host_detector(name: str = "default", **params: Any) -> HostDetector:
    """A fresh detector for one host.

    Parameters
    ----------
    name
        A key of :data:`DETECTORS`.
    **params
        Constructor overrides.

    Raises
    ------
    ValueError
        When ``name`` is unknown (the message lists the known names).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> det = make_host_detector()
    >>> det.process_one({"cpu.usage_user": 1.0}, datetime(2026, 1, 1, tzinfo=timezone.utc)).score
    0.0
    """
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise ValueError(
            f"unknown detector {name!r}; known: {', '.join(sorted(DETECTORS))}"
        ) from None
    return factory(**params)


def restore_host_detector(data: bytes) -> HostDetector:
    """Rebuild a detector from its ``snapshot()`` bytes, whatever its kind.

    Raises
    ------
    ValueError
        When the bytes are not a snapshot or of an unknown kind/version.
    """
    kind, _, _ = decode_snapshot(data)
    try:
        restorer = _RESTORERS[kind]
    except KeyError:
        raise ValueError(f"snapshot of unknown detector kind {kind!r}") from None
    return restorer(data)
