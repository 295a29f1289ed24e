"""Online anomaly detection: pure code (no I/O, no Faust) shared by the worker and offline tools."""
