"""Offline evaluation of the detectors (NAB, ASD) and batch runs over CSV files."""
