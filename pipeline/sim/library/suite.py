"""The scenario files shipped with the package (``pipeline/sim/scenarios/*.yaml``)."""

from __future__ import annotations

from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
LIBRARY_SCENARIOS = SCENARIO_DIR / "library.yaml"
