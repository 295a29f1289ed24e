from __future__ import annotations

from pathlib import Path

from pipeline.settings_table import BEGIN, END, render_settings_table, replace_block

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_table_matches_the_settings() -> None:
    text = README.read_text()
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == render_settings_table(), (
        "README's configuration table is stale: python -m pipeline.settings_table README.md"
    )


def test_every_secret_is_marked_and_has_no_default() -> None:
    rows = [
        line
        for line in render_settings_table().splitlines()
        if "PASSWORD" in line or "TOKEN" in line
    ]
    assert len(rows) == 2
    assert all("| empty |" in row or "| — |" in row for row in rows)


def test_replace_block_keeps_the_text_around_it() -> None:
    text = f"before\n{BEGIN}\nold\n{END}\nafter\n"
    assert replace_block(text, "new") == f"before\n{BEGIN}\nnew\n{END}\nafter\n"
