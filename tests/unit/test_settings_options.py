"""Options generated from settings fields: typed, optional, and handed to ``load`` unchanged."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from pipeline.commands import settings_options
from pipeline.config import StreamSettings, load


@click.command()
@settings_options(StreamSettings, "store", "window_s", "write_detail", "data_dir", "chunk_max")
def show(**flags: Any) -> None:
    settings = load(StreamSettings, None, **flags)
    click.echo(f"{settings.store} {settings.window_s} {settings.write_detail} {settings.chunk_max}")
    click.echo(f"{settings.data_dir}")


def test_given_flags_win_and_unset_ones_leave_env_and_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETWATCH_STREAM_CHUNK_MAX", "77")
    result = CliRunner().invoke(
        show, ["--store", "memory", "--window-s", "15", "--no-write-detail", "--data-dir", "/x"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["memory 15.0 False 77", "/x"]


def test_defaults_when_nothing_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEETWATCH_STREAM_CHUNK_MAX", raising=False)
    defaults = StreamSettings()
    result = CliRunner().invoke(show, [])
    assert result.output.splitlines()[0] == (
        f"{defaults.store} {defaults.window_s} {defaults.write_detail} {defaults.chunk_max}"
    )


@pytest.mark.parametrize(
    "args", [["--store", "postgres"], ["--window-s", "soon"], ["--chunk-max", "1.5"]]
)
def test_a_value_of_the_wrong_type_is_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(show, args)
    assert result.exit_code == 2
    assert "Invalid value" in result.output


def test_help_names_the_environment_variable() -> None:
    result = CliRunner().invoke(show, ["--help"])
    assert "FLEETWATCH_STREAM_WINDOW_S" in result.output
    assert "--write-detail / --no-write-detail" in result.output
