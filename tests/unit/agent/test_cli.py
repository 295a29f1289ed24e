"""`fleetwatch agent` settings precedence and `--once` output (golden /proc, no Kafka)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import AgentSettings, load
from pipeline.errors import ConfigError
from pipeline.models import MetricBatch

BASIC = Path(__file__).resolve().parents[2] / "fixtures" / "proc" / "basic" / "t1"


def test_flag_beats_env_beats_file_beats_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "fleetwatch.toml"
    config.write_text('[agent]\ninterval_s = 30\nnode_id = "from-file"\nlabels = {zone = "z9"}\n')
    monkeypatch.setenv("FLEETWATCH_AGENT_INTERVAL_S", "20")
    settings = load(AgentSettings, config, interval_s=5.0)
    assert settings.interval_s == 5.0
    assert load(AgentSettings, config).interval_s == 20.0
    assert load(AgentSettings, config).node_id == "from-file"
    assert load(AgentSettings, config).labels == {"zone": "z9"}
    assert load(AgentSettings).spool_max_bytes == 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        ({"interval_s": 0.5}, "interval_s"),
        ({"collectors": "cpu,gpu"}, "collectors"),
        ({"node_id": "bad id"}, "node_id"),
    ],
)
def test_invalid_settings_name_the_field(flags: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        load(AgentSettings, **flags)


def test_collectors_keep_order_without_repeats() -> None:
    assert load(AgentSettings, collectors="mem,cpu,mem").collector_names == ("mem", "cpu")


def test_once_prints_one_round_as_json() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "agent",
            "--once",
            "--node-id",
            "golden-1",
            "--label",
            "role=web",
            "--proc-root",
            str(BASIC / "proc"),
            "--sys-root",
            str(BASIC / "sys"),
            "--collectors",
            "load,mem,temp",
        ],
    )
    assert result.exit_code == 0, result.output
    batch = MetricBatch.model_validate_json(result.output)
    assert batch.node_id == "golden-1" and batch.labels == {"role": "web"}
    assert batch.metrics["load.load1"] == 0.5
    assert batch.metrics["mem.used_percent"] == 40.0
    assert batch.metrics["temp.coretemp_core_0.celsius"] == 46.0
    assert json.loads(result.output)["seq"] == 0


def test_bad_label_is_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["agent", "--once", "--label", "novalue"])
    assert result.exit_code == 1
    assert "expected KEY=VALUE" in result.output
