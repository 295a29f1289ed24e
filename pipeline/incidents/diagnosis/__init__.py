"""Name an incident's fault and culprit from analyzers, past incidents and a learned classifier."""
