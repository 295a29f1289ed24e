"""Which knobs each diagnosis kind turns: one small rule per kind, ranked suggestions out."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.tune.advice import Reader, Suggestion, sysctl_rule, unit_limit_rules
from pipeline.tune.knobs import Knob


def memory_pressure(read: Reader) -> list[Suggestion]:
    """Swap less eagerly; throttle the culprit before the OOM killer must (Senpai's memory.high)."""
    swappiness = sysctl_rule(
        read,
        "vm.swappiness",
        10,
        1,
        60,
        ("swap in use and major faults rising", "swap.used_percent down", 0.9),
        lower=True,
    )
    limits = unit_limit_rules(
        read,
        "memory.high",
        "MemoryHigh",
        "90% of memory.max",
        ("50%", "95%"),
        (
            "culprit unit known; PSI memory some > 10 %",
            "mem.used_percent down, oom kills stay 0",
            0.8,
        ),
    )
    return [s for s in (swappiness, *limits) if s is not None]


def memory_leak(read: Reader) -> list[Suggestion]:
    """Cap the leaking unit so it reclaims or restarts alone, not the node."""
    return unit_limit_rules(
        read,
        "memory.high",
        "MemoryHigh",
        "current RSS + 20%",
        ("RSS", "90%"),
        ("leaking unit known; its RSS grows steadily", "mem.used_percent stops climbing", 0.9),
    )


def disk_full(read: Reader) -> list[Suggestion]:
    """Bound the journal: the usual filler of /var on a quiet node."""
    knob = Knob("journald", "SystemMaxUse")
    current = read(knob)
    rollback = f"set SystemMaxUse={current}" if current else "remove SystemMaxUse"
    return [
        Suggestion(
            knob,
            current,
            "1G",
            ("256M", "4G"),
            "/var/log/journal among the largest",
            "disk.root.used_percent down after journald restart",
            rollback,
            0.8,
        )
    ]


def io_saturation(read: Reader) -> list[Suggestion]:
    """Write back earlier and in smaller bursts; cap the culprit's bandwidth."""
    rules = [
        sysctl_rule(
            read,
            "vm.dirty_background_ratio",
            5,
            1,
            10,
            ("write-heavy load; dirty pages pile up", "disk io wait down", 0.8),
            lower=True,
        ),
        sysctl_rule(
            read,
            "vm.dirty_ratio",
            10,
            5,
            20,
            ("write stalls (blocked tasks) seen", "disk io wait down", 0.7),
            lower=True,
        ),
    ]
    caps = unit_limit_rules(
        read,
        "io.max",
        "IOWriteBandwidthMax",
        "wbps=50% of device",
        ("10%", "90%"),
        ("culprit unit known", "disk busy percent down", 0.6),
    )
    return [s for s in rules if s is not None] + caps


def network_degradation(read: Reader) -> list[Suggestion]:
    """Deeper queues when drops come from bursts, not from the wire."""
    rules = [
        sysctl_rule(
            read,
            "net.core.netdev_max_backlog",
            16384,
            1000,
            65536,
            ("rx drops counted in softnet_stat", "net rx drops down", 0.8),
            lower=False,
        ),
        sysctl_rule(
            read,
            "net.core.somaxconn",
            4096,
            128,
            65535,
            ("listen queue overflows", "net listen drops down", 0.6),
            lower=False,
        ),
    ]
    return [s for s in rules if s is not None]


def load_spike(read: Reader) -> list[Suggestion]:
    """Accept bursts of connections instead of refusing them."""
    rule = sysctl_rule(
        read,
        "net.core.somaxconn",
        4096,
        128,
        65535,
        ("listen queue overflows during the spike", "net listen drops down", 0.7),
        lower=False,
    )
    return [rule] if rule else []


def cpu_saturation(read: Reader) -> list[Suggestion]:
    """Cap the culprit so the rest of the node keeps its share."""
    return unit_limit_rules(
        read,
        "cpu.max",
        "CPUQuota",
        "50% of one core per busy thread",
        ("10%", "400%"),
        (
            "culprit unit known; not the node's main service",
            "cpu.usage_user down for other units",
            0.8,
        ),
    )


def fd_exhaustion(read: Reader) -> list[Suggestion]:
    """Raise the unit's file limit when it is near it and not leaking (a leak needs a fix)."""
    knob = Knob("systemd", "LimitNOFILE")
    current = read(knob)
    rollback = f"set LimitNOFILE={current}" if current else "remove the LimitNOFILE override"
    return [
        Suggestion(
            knob,
            current,
            "65536",
            ("4096", "1048576"),
            "fd count flat near the limit (not growing: that is a leak)",
            "fd used percent down",
            rollback,
            0.7,
        )
    ]


RULES: dict[str, Callable[[Reader], list[Suggestion]]] = {
    "memory_pressure": memory_pressure,
    "memory_leak": memory_leak,
    "disk_full": disk_full,
    "io_saturation": io_saturation,
    "network_degradation": network_degradation,
    "load_spike": load_spike,
    "cpu_saturation": cpu_saturation,
    "fd_exhaustion": fd_exhaustion,
}
# No safe OS knob: these are fixed by a rollback, a restart or the application's owners.
NO_KNOB = ("process_crash", "bad_change", "app_errors", "unknown")


def suggest(kind: str, read: Reader) -> list[Suggestion]:
    """Suggestions for ``kind``, best first; empty for kinds without a knob."""
    rule = RULES.get(kind)
    return sorted(rule(read), key=lambda s: -s.weight) if rule else []
