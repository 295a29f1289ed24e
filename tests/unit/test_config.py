from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import (
    ControlSettings,
    IncidentSettings,
    InfluxSettings,
    KafkaSettings,
    RemediationSettings,
    Section,
    load,
)
from pipeline.errors import ConfigError


@pytest.fixture(autouse=True)
def no_fleetwatch_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests read defaults: a shell pointing at a local stack must not change them."""
    for name in [n for n in os.environ if n.startswith("FLEETWATCH_")]:
        monkeypatch.delenv(name)


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


def test_every_number_is_read_from_the_variable_its_name_derives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.settings_table import sections

    numbers = [
        (section, name)
        for section in sections()
        for name, field in section.model_fields.items()
        if field.annotation in (int, float)
    ]
    assert len(numbers) > 20
    for section, name in numbers:
        monkeypatch.setenv(section.env_name(name), "not-a-number")
        with pytest.raises(ConfigError, match=rf"\[{section.section}\] {name}:"):
            load(section)
        monkeypatch.delenv(section.env_name(name))


def test_a_setting_under_its_old_remediation_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEETWATCH_REMEDIATION_BLAST_MAX_NODES", "3")
    with pytest.raises(ConfigError, match="is now FLEETWATCH_CONTROL_BLAST_MAX_NODES"):
        load(ControlSettings)
    with pytest.raises(ConfigError, match="is now FLEETWATCH_CONTROL_BLAST_MAX_NODES"):
        load(RemediationSettings)
    monkeypatch.delenv("FLEETWATCH_REMEDIATION_BLAST_MAX_NODES")
    config = tmp_path / "fleetwatch.toml"
    config.write_text("[remediation]\nsettle_s = 5\n")
    with pytest.raises(ConfigError, match=r"\[remediation\] settle_s is now \[incidents\]"):
        load(IncidentSettings, config)
    with pytest.raises(ConfigError, match=r"\[remediation\] settle_s is now \[incidents\]"):
        load(RemediationSettings, config)
    assert load(KafkaSettings, config).bootstrap == "127.0.0.1:9092"  # other stages unaffected


@pytest.mark.parametrize(
    "settings",
    [
        KafkaSettings(sasl_mechanism="PLAIN", sasl_password="pw", ssl_cafile=Path("/ca.pem")),  # noqa: S106
        InfluxSettings(token="user:secret", timeout_ms=500),  # noqa: S106
        ControlSettings(keyring=Path("/etc/fleetwatch/keyring.json"), blast_max_share=0.5),
        IncidentSettings(group_labels=["role"], notify_url="http://127.0.0.1:1/hook"),
        RemediationSettings(apply=True, clean_roots=[Path("/var/log")], scripts={"a": Path("/s")}),
    ],
)
def test_environment_rebuilds_the_same_settings(
    settings: Section, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert load(type(settings)).model_dump() == settings.model_dump()
