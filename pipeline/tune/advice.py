"""Tuning knowledge per diagnosis kind, in the spirit of tuned profiles, A-Tune and Senpai.

Each rule proposes a value within bounds from the current one, says when it applies, which metric
should move and how to undo it. Pure: no I/O, so every rule is unit-tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.tune.knobs import Knob


@dataclass(frozen=True)
class Suggestion:
    """One proposed change, ranked by ``weight`` (higher first)."""

    knob: Knob
    current: str | None
    proposed: str
    bounds: tuple[str, str]
    precondition: str
    effect: str  # which metric should move, and which way
    rollback: str
    weight: float

    def as_row(self) -> dict[str, object]:
        """Flat dict for tables and --json."""
        return {
            "scope": self.knob.scope,
            "knob": self.knob.name,
            "current": self.current or "?",
            "proposed": self.proposed,
            "bounds": f"{self.bounds[0]}..{self.bounds[1]}",
            "precondition": self.precondition,
            "effect": self.effect,
            "rollback": self.rollback,
        }


Reader = Callable[[Knob], str | None]


def int_of(value: str | None, default: int) -> int:
    """The first integer of a knob's text (``"60"``, ``"4096 16384"``), else ``default``."""
    try:
        return int(str(value).split()[0])
    except (ValueError, IndexError):
        return default


def restore_text(knob: Knob, current: str | None) -> str:
    """How to undo a change of ``knob``: back to the value read, or drop the override."""
    return f"set {knob.name} back to {current}" if current else f"remove the {knob.name} override"


def sysctl_rule(
    read: Reader,
    name: str,
    target: int,
    low: int,
    high: int,
    why: tuple[str, str, float],
    lower: bool,
) -> Suggestion | None:
    """A sysctl moved toward ``target`` (down when ``lower``), None when already there."""
    knob = Knob("sysctl", name)
    current = read(knob)
    now = int_of(current, target + 1 if lower else target - 1)
    if (lower and now <= target) or (not lower and now >= target):
        return None
    precondition, effect, weight = why
    return Suggestion(
        knob,
        current,
        str(target),
        (str(low), str(high)),
        precondition,
        effect,
        restore_text(knob, current),
        weight,
    )


def unit_limit_rules(
    read: Reader,
    cgroup: str,
    unit_prop: str,
    proposed: str,
    bounds: tuple[str, str],
    why: tuple[str, str, float],
) -> list[Suggestion]:
    """The culprit unit's cgroup file and the matching systemd property (persistent form)."""
    precondition, effect, weight = why
    out = []
    for knob, extra in ((Knob("cgroup", cgroup), 0.0), (Knob("systemd", unit_prop), -0.05)):
        current = read(knob)
        out.append(
            Suggestion(
                knob,
                current,
                proposed,
                bounds,
                precondition,
                effect,
                restore_text(knob, current),
                weight + extra,
            )
        )
    return out
