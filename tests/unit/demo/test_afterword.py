"""The demo's afterword: tune suggestions only for diagnosed kinds that have a knob."""

from __future__ import annotations

from rich.console import Console

from pipeline.demo.afterword import tune_incidents
from tests.unit.incidents.test_runbooks_by_diagnosis import incident


def test_tune_suggest_shown_for_kinds_with_a_knob_only() -> None:
    console = Console(record=True, width=200)
    tune_incidents(console, [incident("io_saturation"), incident("bad_change"), incident()])
    text = console.export_text()
    assert "tune suggest --kind io_saturation" in text
    assert "vm.dirty_background_ratio → 5" in text
    assert "bad_change" not in text
