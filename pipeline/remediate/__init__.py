"""The node side of remediation: verify, limit, act and audit on this node only (runs as root)."""
