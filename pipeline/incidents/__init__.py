"""The central incident stage: anomalies grouped into incidents, runbooks, signed requests out."""
