"""The fault library's suite as case directories: every kind, truth that matches, CSVs parse."""

from __future__ import annotations

import csv
import json
import statistics
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import ChangeEvent
from pipeline.sim.library.case_writer import write_cases
from pipeline.sim.library.catalogue import FAULT_TYPES
from pipeline.sim.library.scenario_file import ScenarioFile, load_scenarios
from pipeline.sim.library.suite import LIBRARY_SCENARIOS

CORE_KINDS = {
    "cpu_saturation", "memory_leak", "memory_pressure", "disk_full", "io_saturation",
    "network_degradation", "load_spike", "process_crash", "fd_exhaustion", "bad_change",
}  # fmt: skip


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, object]]]:
    """The shipped scenarios, one seed, a shorter history so the unit suite stays fast."""
    spec = load_scenarios(LIBRARY_SCENARIOS)
    short = spec.model_copy(
        update={"defaults": spec.defaults.model_copy(update={"history_s": 2400})}
    )
    out = tmp_path_factory.mktemp("cases")
    return out, write_cases(short, out, seeds=1)


def _read(path: Path) -> tuple[list[datetime], dict[str, list[float | None]]]:
    with path.open() as source:
        rows = list(csv.reader(source))
    header, body = rows[0], rows[1:]
    assert header[0] == "timestamp"
    times = [datetime.fromisoformat(row[0]) for row in body]
    columns = {
        name: [float(row[i]) if row[i] else None for row in body]
        for i, name in enumerate(header) if i > 0
    }  # fmt: skip
    return times, columns


def _mean(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else 0.0


def test_the_suite_has_every_fault_type_and_core_kind(suite: tuple[Path, dict]) -> None:
    _, truth = suite
    assert {t["fault_type"] for t in truth.values()} == set(FAULT_TYPES)
    assert {t["kind"] for t in truth.values()} == CORE_KINDS
    assert any("secondary" in t for t in truth.values())
    assert any("harmless_changes" in t for t in truth.values())


def test_case_json_names_the_nodes_window_and_changes(suite: tuple[Path, dict]) -> None:
    out, truth = suite
    assert json.loads((out / "truth.json").read_text()) == truth
    for case_id, expected in truth.items():
        case = json.loads((out / case_id / "case.json").read_text())
        assert expected["culprit"] in case["nodes"]
        assert len({labels["role"] for labels in case["nodes"].values()}) == 1
        assert len(case["nodes"]) >= 3, "the culprit needs healthy peers of its role"
        assert case["window"]["start_at"] < case["window"]["end_at"]
        changes = [ChangeEvent.model_validate(c) for c in case["changes"]]
        ids = {c.change_id for c in changes}
        assert set(expected.get("harmless_changes", [])) <= ids
        if expected["kind"] == "bad_change":
            assert expected["culprit_change"] in ids
        for node_id in case["nodes"]:
            times, columns = _read(out / case_id / f"{node_id}.csv")
            assert times == sorted(times) and times[0].tzinfo is not None
            assert all(len(values) == len(times) for values in columns.values())


def test_truth_matches_the_injected_fault(suite: tuple[Path, dict]) -> None:
    """The fault's first signature series moves on the culprit in the window, not on clean peers."""
    out, truth = suite
    for case_id, expected in truth.items():
        case = json.loads((out / case_id / "case.json").read_text())
        start = datetime.fromisoformat(case["window"]["start_at"])
        end = datetime.fromisoformat(case["window"]["end_at"])
        metric = expected["metrics"][0]
        hit = {expected["culprit"]} | {s["culprit"] for s in expected.get("secondary", [])}
        hit |= {n for c in case["changes"] if c["change_id"] == expected.get("culprit_change")
                for n in c["nodes"]}  # fmt: skip
        during: dict[str, float] = {}
        before: dict[str, float] = {}
        for node_id in case["nodes"]:
            times, columns = _read(out / case_id / f"{node_id}.csv")
            values = columns.get(metric, [None] * len(times))
            during[node_id] = _mean(
                [v for t, v in zip(times, values, strict=True) if start <= t < end]
            )
            before[node_id] = _mean([v for t, v in zip(times, values, strict=True) if t < start])
        culprit = expected["culprit"]
        assert during[culprit] > before[culprit] * 1.1 + 1e-9, (case_id, metric)
        clean = [n for n in case["nodes"] if n not in hit]
        assert all(during[culprit] > during[n] for n in clean), (case_id, metric, during)


def test_scenario_errors_name_the_place_and_the_options(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - name: x\n    role: web\n    faults: [{type: cpu_hog}]\n")
    with pytest.raises(Exception, match=r"scenarios\[0\]\.faults\[0\]\.type: .*runaway_process"):
        load_scenarios(bad)
    bad.write_text(
        "scenarios:\n  - name: x\n    role: web\n    faults: [{type: fd_leak, nod: 1}]\n"
    )
    with pytest.raises(Exception, match=r"faults\[0\]\.nod: Extra inputs are not permitted"):
        load_scenarios(bad)
    bad.write_text("scenarios: [\n")
    with pytest.raises(Exception, match="not valid YAML"):
        load_scenarios(bad)


def test_cases_are_reproducible(tmp_path: Path) -> None:
    spec = ScenarioFile.model_validate(
        {"defaults": {"history_s": 600, "nodes": 3},
         "scenarios": [{"name": "a", "role": "db", "faults": [{"type": "swap_thrash"}]}]}
    )  # fmt: skip
    write_cases(spec, tmp_path / "one", seeds=2)
    write_cases(spec, tmp_path / "two", seeds=2)
    for path in (tmp_path / "one").rglob("*.*"):
        assert (
            path.read_bytes()
            == (tmp_path / "two" / path.relative_to(tmp_path / "one")).read_bytes()
        )


def test_simulate_cases_command_writes_the_suite(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(
        "defaults: {history_s: 600, nodes: 3}\n"
        "scenarios:\n  - {name: leak, role: batch, faults: [{type: unit_memory_leak}]}\n"
    )
    out = tmp_path / "cases"
    args = ["simulate", "--cases", str(out), "--scenarios", str(scenarios), "--seeds", "2"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["kinds"] == {"memory_leak": 2}
    truth = json.loads((out / "truth.json").read_text())
    assert sorted(truth) == ["leak-s0", "leak-s1"]
    assert truth["leak-s0"]["culprit_process"] == "java"
    assert truth["leak-s0"]["culprit_unit"] == "report"
    bad = CliRunner().invoke(cli, [*args[:3], "--scenarios", str(tmp_path / "none.yaml")])
    assert bad.exit_code != 0
