"""The fault library: scenarios anyone writes in YAML, run as incident case directories.

Python API (``fleetwatch simulate --cases OUT --scenarios FILE --seeds N`` calls it)::

    from pipeline.sim.library.scenario_file import load_scenarios
    from pipeline.sim.library.case_writer import write_cases
    from pipeline.sim.library.suite import LIBRARY_SCENARIOS

    truth = write_cases(load_scenarios(LIBRARY_SCENARIOS), Path("cases"), seeds=5)

- ``catalogue.FAULT_TYPES``: 13 fault types (runaway_process, noisy_neighbour, unit_memory_leak,
  oom_kills, swap_thrash, fd_leak, log_fills_disk, io_saturation, packet_loss, network_latency,
  crash_loop, fork_storm, bad_deploy), each a core diagnosis kind with a culprit process/unit
  and the series it moves (``proc.*``/``unit.*`` as the agent's ``top``/``units`` collectors
  name them, plus the host metrics).
- ``workloads``: what runs on each role (its application, sshd, journald, the agent).
- ``scenario_file``: the YAML schema; ``case_run``: one scenario × seed; ``case_writer``: the
  directories. The shipped suite is ``pipeline/sim/scenarios/library.yaml``.

The demo's own faults (``pipeline/sim/faults.py``) keep their host effects; their culprit and its
series come from this library (``pipeline/sim/culprits.py``).
"""
