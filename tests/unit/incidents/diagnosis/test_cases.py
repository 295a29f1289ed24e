from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.errors import CaseError
from pipeline.incidents.diagnosis.cases import case_dirs, read_case

FIXTURE = Path(__file__).parents[3] / "fixtures" / "cases"


def test_reads_every_fixture_case_with_nodes_window_and_changes() -> None:
    paths = case_dirs(FIXTURE)
    assert len(paths) == 23
    evidence = read_case(FIXTURE / "bad_change-1")
    assert [n.node_id for n in evidence.nodes] == ["a-1", "a-2"]
    assert evidence.nodes[0].in_window.sum() == 12
    assert evidence.changes[0].change_id == "deploy-app" and evidence.changes[0].role == "app"


def test_without_a_window_the_reader_finds_it(tmp_path: Path) -> None:
    case = tmp_path / "c"
    shutil.copytree(FIXTURE / "memory_pressure-1", case)
    spec = json.loads((case / "case.json").read_text())
    del spec["window"]
    (case / "case.json").write_text(json.dumps(spec))
    found = read_case(case).node("a-1").in_window
    marked = read_case(FIXTURE / "memory_pressure-1").node("a-1").in_window
    overlap = (found & marked).sum() / marked.sum()
    assert overlap >= 0.8 and found.sum() <= 2 * marked.sum()


def test_bad_column_name_is_refused_with_the_file(tmp_path: Path) -> None:
    case = tmp_path / "c"
    shutil.copytree(FIXTURE / "app_errors-1", case)
    csv = case / "a-1.csv"
    csv.write_text(csv.read_text().replace("app.errors_per_s", "App Errors", 1))
    with pytest.raises(CaseError, match=r"a-1\.csv: column 'App Errors'"):
        read_case(case)


def test_missing_node_csv_is_a_clear_error(tmp_path: Path) -> None:
    case = tmp_path / "c"
    shutil.copytree(FIXTURE / "app_errors-1", case)
    (case / "a-2.csv").unlink()
    with pytest.raises(CaseError, match="a-2.csv: cannot read"):
        read_case(case)
