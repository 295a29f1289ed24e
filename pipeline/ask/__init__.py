"""``fleetwatch ask``: questions in English or Chinese turned into typed queries, run on the store."""
