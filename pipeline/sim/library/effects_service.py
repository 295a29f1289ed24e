"""Faults of services and the network: loss, latency, crash loops, fork storms, a bad deploy."""

from __future__ import annotations

from pipeline.sim.library.effects_host import ramp
from pipeline.sim.library.hit import Hit, add_cpu, bump, set_unit
from pipeline.sim.nodes import MIB


def packet_loss(m: dict[str, float], hit: Hit) -> None:
    """The node's link drops packets: TCP retransmits, the NIC counts drops."""
    m["net.tcp_retrans_percent"] += 6 * hit.intensity * hit.rng.uniform(0.7, 1.3)
    m["net.eth0.rx_drops_per_s"] += 40 * hit.intensity * hit.rng.uniform(0.7, 1.3)


def network_latency(m: dict[str, float], hit: Hit) -> None:
    """The path got slow: connections pile up waiting, throughput falls, a few retransmits."""
    depth = hit.intensity * ramp(hit, 180)
    m["net.tcp_retrans_percent"] += 1.2 * depth * hit.rng.uniform(0.7, 1.3)
    m["net.tcp_established"] *= 1 + 1.6 * depth
    for key in ("net.eth0.rx_bytes_per_s", "net.eth0.tx_bytes_per_s"):
        m[key] *= 1 - 0.35 * min(1.0, depth)


def crash_loop(m: dict[str, float], hit: Hit) -> None:
    """A service dies right after it starts; systemd starts it again, and again."""
    set_unit(m, hit, "restarts_per_s", hit.rng.randint(1, 3) / hit.interval_s)
    m["processes.forks_per_s"] += hit.rng.uniform(2, 8)
    if hit.process is None:
        return
    if hit.rng.random() < 0.5:  # down while the agent looked: the process is not in the top
        for key in [k for k in m if k.startswith(f"proc.{hit.process}.")]:
            del m[key]
        set_unit(m, hit, "memory_bytes", 2 * MIB)
        set_unit(m, hit, "cpu_percent", hit.rng.uniform(0, 5))
        return
    rss = m.get(f"proc.{hit.process}.rss_bytes", 0.0)
    bump(m, hit, rss_bytes=-0.7 * rss, cpu_percent=hit.rng.uniform(30, 90))  # starting up


def fork_storm(m: dict[str, float], hit: Hit) -> None:
    """A process forks children (or threads) without bound: the task count explodes."""
    tasks = (300 + 1700 * min(1.0, hit.progress * 3)) * hit.intensity * hit.rng.uniform(0.9, 1.1)
    bump(m, hit, count=tasks, threads=tasks, rss_bytes=tasks * 2 * MIB, cpu_percent=tasks / 10)
    m["processes.total"] += tasks
    m["processes.forks_per_s"] += tasks / 20
    m["load.threads"] += tasks
    m["load.load1"] += tasks / 25
    m["cpu.usage_system"] = min(60.0, m["cpu.usage_system"] + 15 * hit.intensity)


def bad_deploy(m: dict[str, float], hit: Hit) -> None:
    """The new version is slower, hungrier and flakier than the old one."""
    if hit.age_s < hit.interval_s:  # the rollout restarts the service
        set_unit(m, hit, "restarts_per_s", 1 / hit.interval_s)
    elif hit.rng.random() < 0.2:  # and some workers keep dying
        set_unit(m, hit, "restarts_per_s", 1 / hit.interval_s)
    cpu = m.get(f"proc.{hit.process}.cpu_percent", 0.0)
    added = add_cpu(m, hit, cpu * 0.9 * hit.intensity / hit.cores)
    rss = m.get(f"proc.{hit.process}.rss_bytes", 0.0)
    bump(m, hit, cpu_percent=added * hit.cores, rss_bytes=0.4 * rss * hit.intensity, threads=8)
    m["mem.used_percent"] = min(97.0, m["mem.used_percent"] + 8 * hit.intensity)
    m["net.tcp_retrans_percent"] += 1.5 * hit.intensity * hit.rng.uniform(0.7, 1.3)
    m["processes.total"] += 40 * hit.intensity


def rolling_restart(m: dict[str, float], hit: Hit) -> None:
    """What any deploy does to a node, harmful or not: its service restarts once."""
    if hit.age_s < hit.interval_s:
        set_unit(m, hit, "restarts_per_s", 1 / hit.interval_s)
        bump(m, hit, cpu_percent=hit.rng.uniform(10, 40))
