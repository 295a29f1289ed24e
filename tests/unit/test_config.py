from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import InfluxSettings, KafkaSettings, load
from pipeline.errors import ConfigError


def test_precedence_is_flag_then_env_then_file_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "fleetwatch.toml"
    config.write_text('[kafka]\nbootstrap = "file:1"\nclient_id = "from-file"\n')
    assert load(KafkaSettings).bootstrap == "127.0.0.1:9092"
    assert load(KafkaSettings, config).bootstrap == "file:1"
    monkeypatch.setenv("FLEETWATCH_KAFKA_BOOTSTRAP", "env:2")
    settings = load(KafkaSettings, config)
    assert (settings.bootstrap, settings.client_id) == ("env:2", "from-file")
    assert load(KafkaSettings, config, bootstrap="flag:3").bootstrap == "flag:3"
    assert load(KafkaSettings, config, bootstrap=None).bootstrap == "env:2"


def test_bad_value_names_section_and_field(tmp_path: Path) -> None:
    config = tmp_path / "fleetwatch.toml"
    config.write_text('[kafka]\nsecurity_protocol = "TELNET"\n')
    with pytest.raises(ConfigError, match=r"\[kafka\] security_protocol"):
        load(KafkaSettings, config)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "fleetwatch.toml"
    config.write_text('[influx]\nurll = "http://x"\n')
    with pytest.raises(ConfigError, match="urll"):
        load(InfluxSettings, config)


def test_secrets_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETWATCH_INFLUX_TOKEN", "s3cr3t-token")
    settings = load(InfluxSettings)
    assert settings.token.get_secret_value() == "s3cr3t-token"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.model_dump())


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[kafka\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load(KafkaSettings, config)
