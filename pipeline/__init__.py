"""fleetwatch: streaming anomaly detection and safe remediation for Linux fleets."""

__version__ = "0.1.0"
