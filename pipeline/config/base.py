"""The settings base: a section's environment names, and loading flags > environment > file."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pipeline.errors import ConfigError


def env_prefix(section: str) -> str:
    """Where a section's variables start, e.g. ``FLEETWATCH_KAFKA_`` for ``[kafka]``."""
    return f"FLEETWATCH_{section.upper()}_"


class Section(BaseSettings):
    """Base of every settings section: frozen, unknown keys rejected, env names derived."""

    section: ClassVar[str] = ""
    formerly: ClassVar[str] = ""  # the section whose variables these fields were read from
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Read each section's variables under ``FLEETWATCH_<SECTION>_``."""
        super().__pydantic_init_subclass__(**kwargs)
        cls.model_config["env_prefix"] = env_prefix(cls.section)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of ``field``, e.g. ``FLEETWATCH_KAFKA_BOOTSTRAP``."""
        return f"{cls.model_config['env_prefix']}{field}".upper()

    def environment(self) -> dict[str, str]:
        """The variables that rebuild these settings in a child process, secrets included.

        Settings travel to children in the environment, never as arguments, so that secrets
        stay out of ``ps`` and ``/proc/<pid>/cmdline``.
        """
        return {self.env_name(name): _env_value(value) for name, value in self if value is not None}


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool | list | dict):  # read back as JSON, like every complex field
        return json.dumps(value, default=str)
    return str(value)


S = TypeVar("S", bound=Section)


def load(cls: type[S], config_file: Path | None = None, **flags: Any) -> S:
    """Build a settings section: flags (non-None) > environment > ``config_file`` table > default.

    Raises
    ------
    ConfigError
        When the file is unreadable or a value is invalid; the message names the bad field.
    """
    document = _read_document(config_file) if config_file else {}
    _refuse_old_names(cls, document)
    _refuse_removed(cls, document)
    file_values = _table(document, cls.section, config_file)

    class _WithFile(cls):  # type: ignore[valid-type,misc]  # a subclass per call binds the file
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, file_values))

    _WithFile.__name__ = cls.__name__
    try:
        return _WithFile(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"[{cls.section}] {field}: {first['msg']}") from None


def _refuse_old_names(cls: type[Section], document: dict[str, Any]) -> None:
    """A setting still under its name from before its section was split off fails loudly.

    Ignoring it would silently put a default in its place: a blast radius, a keyring.
    """
    split_off = [s for s in Section.__subclasses__() if cls.section in (s.section, s.formerly)]
    for section in (s for s in split_off if s.formerly):
        for name in section.model_fields:
            old_env = f"{env_prefix(section.formerly)}{name.upper()}"
            if old_env in os.environ:
                raise ConfigError(f"{old_env} is now {section.env_name(name)}")
            if name in document.get(section.formerly, {}):
                raise ConfigError(f"[{section.formerly}] {name} is now [{section.section}] {name}")


# Settings that no longer exist and would otherwise be ignored without a word.
REMOVED = {
    ("control", "hmac_key"): "the shared HMAC key is gone: requests and operator commands are "
    "signed with Ed25519 keys (`fleetwatch keys generate`; README, 'Signing keys')",
}


def _refuse_removed(cls: type[Section], document: dict[str, Any]) -> None:
    for (section, name), why in REMOVED.items():
        if section != cls.section:
            continue
        names = (
            f"FLEETWATCH_{section}_{name}".upper(),
            f"FLEETWATCH_{cls.formerly}_{name}".upper(),
        )
        if any(env in os.environ for env in names) or name in document.get(section, {}):
            raise ConfigError(f"{names[0]}: {why}")


def _read_document(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def _table(document: dict[str, Any], section: str, path: Path | None) -> dict[str, Any]:
    table = document.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    return table
