"""``fleetwatch tune``: OS tuning suggestions per diagnosis kind (sysctl, cgroup v2, systemd)."""
