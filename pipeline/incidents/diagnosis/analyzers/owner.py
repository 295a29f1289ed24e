"""The systemd unit that owns a culprit process, read from the node's ``unit.*`` series.

A unit's cgroup figures are the sums over its processes (``cpu.stat``, ``memory.current``,
``pids.current``), so a process's own round-to-round movement shows up, in step, in exactly the
unit that holds it: its ``cpu_percent`` in the unit's ``cpu_percent``, its ``rss_bytes`` in the
unit's ``memory_bytes``, its ``threads`` in the unit's ``tasks``. The owner is the unit whose
series follow the process's most closely, when they follow it closely enough; a process no
unit follows (started from a shell, a container outside ``system.slice``) has no owner, and a
``restart_unit`` is then not guessed from its name.
"""

from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.culprit import instance_of
from pipeline.incidents.diagnosis.evidence import FloatArray, NodeEvidence

# (process field, unit field) pairs a unit sums over its processes.
SUMMED_FIELDS = (
    ("cpu_percent", "cpu_percent"),
    ("rss_bytes", "memory_bytes"),
    ("threads", "tasks"),
)
# Pearson correlation a unit's series must reach with its process's. Summed figures of a process
# that dominates its unit correlate near 1; unrelated services' noise near 0. 0.9 leaves room for
# the unit's other processes and its page cache without letting a coincidence through.
MIN_OWNER_CORRELATION = 0.9
MIN_ROWS = 5
UNIT_SUFFIX = ".service"


def owning_unit(node: NodeEvidence, culprit: str) -> str | None:
    """The unit (``api.service``) owning ``culprit`` on ``node``, or None when none is seen.

    ``culprit`` is a ``proc.<comm>`` instance, or a ``unit.<unit>`` instance the analyzer named
    directly (then that unit is the owner).
    """
    if not _has(node, "proc", culprit):
        return culprit + UNIT_SUFFIX if _has(node, "unit", culprit) else None
    found = _best({unit: _follows(node, culprit, unit) for unit in _instances(node, "unit")})
    return found + UNIT_SUFFIX if found else None


def process_in(node: NodeEvidence, culprit: str) -> str:
    """The process to name for ``culprit``: itself, or for a unit the process it follows best.

    An analyzer that read a unit-only figure (``throttled_percent``) names the unit; actions on
    processes (``stop_process``) need the command inside it (``transcode.service`` runs
    ``ffmpeg``). A unit none of whose processes it follows keeps its own name.
    """
    if _has(node, "proc", culprit) or not _has(node, "unit", culprit):
        return culprit
    scores = {process: _follows(node, process, culprit) for process in _instances(node, "proc")}
    return _best(scores) or culprit


def _has(node: NodeEvidence, prefix: str, instance: str) -> bool:
    return any(m.startswith(f"{prefix}.{instance}.") for m in node.series)


def _best(scores: dict[str, float]) -> str | None:
    """The best-following name, if it follows closely enough (ties go to the first name)."""
    best = max(scores.items(), key=lambda item: item[1], default=None)
    return best[0] if best is not None and best[1] >= MIN_OWNER_CORRELATION else None


def _instances(node: NodeEvidence, prefix: str) -> list[str]:
    """``proc``/``unit`` instances with series on ``node``, sorted."""
    return sorted({instance_of(m) for m in node.series if m.startswith(prefix + ".")})


def _follows(node: NodeEvidence, process: str, unit: str) -> float:
    """How closely ``unit``'s summed series follow ``process``'s: the best pair's correlation."""
    pairs = (
        (node.series.get(f"proc.{process}.{p}"), node.series.get(f"unit.{unit}.{u}"))
        for p, u in SUMMED_FIELDS
    )
    found = [_correlation(a, b) for a, b in pairs if a is not None and b is not None]
    return max(found, default=0.0)


def _correlation(a: FloatArray, b: FloatArray) -> float:
    """Pearson correlation over the rows both have (0 when too few or either is flat)."""
    both = np.isfinite(a) & np.isfinite(b)
    if int(both.sum()) < MIN_ROWS:
        return 0.0
    x, y = a[both], b[both]
    if float(np.std(x)) == 0.0 or float(np.std(y)) == 0.0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])
