"""The one-command demo: local stack, simulated fleet with injected faults, live view, scorecard."""
