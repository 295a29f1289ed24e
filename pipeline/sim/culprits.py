"""Culprit telemetry of a simulated fleet: the ``proc.*``/``unit.*`` series a real agent sends.

Every virtual node runs its role's processes and units (``library.workloads``: the application,
sshd, journald, the agent), reported as the agent's ``top`` and ``units`` collectors would. A fault
is one of the fault library's types, so its culprit is that type's process and unit; whatever
the fault adds to the node's CPU, memory, disk writes and task count is the culprit's doing and is
added to the culprit's series. A fault with no process to blame (packet loss, a neighbour VM
stealing CPU) leaves them alone.
"""

from __future__ import annotations

import random
from datetime import datetime

from pipeline.sim.faults import Fault, FaultKind
from pipeline.sim.library.catalogue import FAULT_TYPES, MAIN
from pipeline.sim.library.hit import Hit, bump, set_unit
from pipeline.sim.library.workloads import (
    COMMON,
    ROLE_WORKLOADS,
    main_workload,
    workload_metrics,
)
from pipeline.sim.nodes import VirtualNode

# The fault library's type each simulator fault is (its culprit and its diagnosis kind).
LIBRARY_TYPE: dict[FaultKind, str | None] = {
    "cpu_runaway": "runaway_process",
    "memory_leak": "unit_memory_leak",
    "disk_filling": "log_fills_disk",
    "network_loss": "packet_loss",
    "noisy_neighbour": None,  # another VM on the hypervisor: steal, nobody on this node
    "bad_deploy": "bad_deploy",
}
# A rollout restarts the service; afterwards a bad release keeps losing a worker now and then.
RESTART_SHARE = 0.2


def culprit_of(kind: FaultKind, role: str) -> tuple[str | None, str | None]:
    """The process and unit a fault of ``kind`` on a ``role`` node is caused by (None: nobody)."""
    type_name = LIBRARY_TYPE[kind]
    if type_name is None:
        return None, None
    fault_type = FAULT_TYPES[type_name]
    main = main_workload(role)
    process = main.process if fault_type.process == MAIN else fault_type.process
    unit = main.unit if fault_type.unit == MAIN else fault_type.unit
    return process, unit


def can_host(kind: FaultKind, role: str) -> bool:
    """Whether a fault of ``kind`` can happen as simulated on a ``role`` node.

    The simulated leak fills the node's memory (to 98 %) through its culprit unit, which only a
    unit without ``MemoryMax`` can do: a capped one (web's 6 GiB, batch's 8 GiB) is OOM-killed at
    its cap, which is another fault (the library's ``oom_kills``, memory pressure). Placed on a
    batch node, the leak's java grew to 17 GB under its 8 GiB cap.
    """
    if kind != "memory_leak":
        return True
    return main_workload(role).memory_max_bytes is None


def healthy_workloads(
    node: VirtualNode, round_index: int, metrics: dict[str, float]
) -> dict[str, float]:
    """The node's processes and units in round ``round_index`` (seeded by node and round).

    A healthy service's descriptor count stays put from one round to the next (sshd holds its 12
    until someone logs in), where the library's case noise redraws it every round: on a 10 s
    stream that made every node's small counts step by one at random, and each step flagged.
    """
    rng = random.Random(f"{node.node_id}:{round_index}")  # noqa: S311 - simulation noise
    workloads = workload_metrics(node.profile, metrics, rng)
    for work in (*ROLE_WORKLOADS[node.profile.role], *COMMON):
        prefix = f"proc.{work.process}"
        workloads[f"{prefix}.open_fds"] = work.fds
        workloads[f"{prefix}.fd_limit_percent"] = 100 * work.fds / work.count / work.fd_limit
    return workloads


def charge_culprit(
    fault: Fault,
    node: VirtualNode,
    before: dict[str, float],
    after: dict[str, float],
    sampled_at: datetime,
    interval_s: float,
) -> None:
    """Add what ``fault`` changed between ``before`` and ``after`` to its culprit's series."""
    process, unit = culprit_of(fault.kind, node.profile.role)
    if process is None and unit is None:
        return
    rng = random.Random(f"{fault.fault_id}:{node.node_id}:{sampled_at}")  # noqa: S311
    age_s = (sampled_at - fault.start_at).total_seconds()
    hit = Hit(node.profile, 0.0, age_s, fault.intensity, process, unit, interval_s, rng)
    cores = node.profile.cores

    def grew(key: str) -> float:
        return max(0.0, after.get(key, 0.0) - before.get(key, 0.0))

    busy = grew("cpu.usage_user") + grew("cpu.usage_system")
    tasks = grew("processes.total")
    bump(
        after,
        hit,
        cpu_percent=busy * cores,  # percent of one core, as top counts it
        rss_bytes=grew("mem.used_percent") / 100 * node.profile.memory_bytes,
        write_bytes_per_s=grew("diskio.sda.write_bytes_per_s"),
        count=tasks,
        threads=tasks,
    )
    if fault.kind == "bad_deploy" and (age_s < interval_s or rng.random() < RESTART_SHARE):
        set_unit(after, hit, "restarts_per_s", 1 / interval_s)
