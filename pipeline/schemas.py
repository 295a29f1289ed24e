"""JSON Schemas of the wire models, for agents written in other languages."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.models import WIRE_MODELS


def render_schemas() -> dict[str, str]:
    """File name → JSON Schema text for every wire model (stable key order, trailing newline)."""
    rendered = {}
    for model in WIRE_MODELS:
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://fleetwatch.dev/schemas/{model.__name__}.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        rendered[f"{model.__name__}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def export_schemas(directory: Path) -> list[str]:
    """Write every schema into ``directory``; returns the file names written."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for name, text in rendered.items():
        (directory / name).write_text(text)
    return sorted(rendered)


def stale_schemas(directory: Path) -> list[str]:
    """Schema files in ``directory`` that are missing, out of date, or belong to no model."""
    rendered = render_schemas()
    present = {path.name for path in directory.glob("*.json")} if directory.is_dir() else set()
    differing = [
        name
        for name, text in rendered.items()
        if name not in present or (directory / name).read_text() != text
    ]
    return sorted(differing + sorted(present - set(rendered)))
