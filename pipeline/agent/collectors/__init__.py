"""One collector per subsystem, each reading a ``proc_root``/``sys_root`` so tests use snapshots."""
