"""Long-running benchmarks of the whole pipeline on real servers (``fleetwatch bench soak``)."""
