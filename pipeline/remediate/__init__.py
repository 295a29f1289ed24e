"""Incidents from anomaly events, signed remediation requests, and the node-side executor."""
