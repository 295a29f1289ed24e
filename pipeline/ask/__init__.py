"""``fleetwatch ask``: English or Chinese questions → typed queries, run on the store."""
