from __future__ import annotations

import json
from pathlib import Path

from pipeline.models import WIRE_MODELS
from pipeline.schemas import export_schemas, render_schemas, stale_schemas

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_match_the_models() -> None:
    assert stale_schemas(REPO_SCHEMAS) == []


def test_every_wire_model_has_a_strict_schema() -> None:
    rendered = render_schemas()
    assert set(rendered) == {f"{model.__name__}.json" for model in WIRE_MODELS}
    for text in rendered.values():
        schema = json.loads(text)
        assert schema["additionalProperties"] is False
        assert "schema_version" in schema["properties"]


def test_check_reports_a_changed_and_an_extra_file(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []
    (tmp_path / "MetricBatch.json").write_text("{}")
    (tmp_path / "Old.json").write_text("{}")
    assert stale_schemas(tmp_path) == ["MetricBatch.json", "Old.json"]
