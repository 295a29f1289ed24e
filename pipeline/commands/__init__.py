"""Commands of each stage: each module has ``register(cli, bench)`` and imports lazily."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar, get_args, get_origin

import click

from pipeline.config import InfluxSettings, KafkaSettings, Section, TopicSettings, load
from pipeline.errors import FleetwatchError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    """Turn a FleetwatchError into ``fleetwatch: <reason>`` and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FleetwatchError as exc:
            click.echo(f"fleetwatch: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def config_option(tables: str) -> Callable[[F], F]:
    """``--config FILE``: a TOML file with the given ``tables`` (e.g. "[kafka], [topics]")."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help=f"TOML config file ({tables} tables).",
    )


kafka_bootstrap_option = click.option(
    "--kafka-bootstrap", help=f"Kafka host:port (env {KafkaSettings.env_name('bootstrap')})."
)
influx_url_option = click.option(
    "--influx-url", help=f"InfluxDB URL (env {InfluxSettings.env_name('url')})."
)
topic_prefix_option = click.option(
    "--topic-prefix", help=f"Topic name prefix (env {TopicSettings.env_name('prefix')})."
)


def server_options(command: F) -> F:
    """Options every command that talks to Kafka or InfluxDB accepts."""
    options = [
        config_option("[kafka], [influx], [topics], ..."),
        kafka_bootstrap_option,
        influx_url_option,
        topic_prefix_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def settings_options(section: type[Section], *names: str) -> Callable[[F], F]:
    """Options ``--<field>`` for fields of a settings section, typed and described by the field.

    Every option defaults to None, so an unset flag leaves the environment, config file or
    default in charge (see :func:`pipeline.config.load`); booleans get ``--x/--no-x``.
    """

    def decorate(command: F) -> F:
        for name in reversed(names):
            command = _field_option(section, name)(command)
        return command

    return decorate


def _field_option(section: type[Section], name: str) -> Callable[[F], F]:
    field = section.model_fields[name]
    flag = "--" + name.replace("_", "-")
    meaning = field.description or ""
    help_text = f"{meaning[:1].upper()}{meaning[1:]} (env {section.env_name(name)})."
    annotation = field.annotation
    if annotation is bool:
        return click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)
    if get_origin(annotation) is Literal:
        kind: Any = click.Choice([str(choice) for choice in get_args(annotation)])
    elif annotation is Path:
        kind = click.Path(path_type=Path)
    else:
        kind = annotation
    return click.option(flag, name, type=kind, default=None, help=help_text)


def build_servers(
    config_file: Path | None,
    kafka_bootstrap: str | None,
    influx_url: str | None,
    topic_prefix: str | None,
) -> tuple[KafkaSettings, InfluxSettings, TopicSettings]:
    """Settings of the servers every component shares."""
    return (
        load(KafkaSettings, config_file, bootstrap=kafka_bootstrap),
        load(InfluxSettings, config_file, url=influx_url),
        load(TopicSettings, config_file, prefix=topic_prefix),
    )


def stage_modules() -> tuple[ModuleType, ...]:
    """Every stage's command module.

    Imported here rather than at the top: the stage modules import ``one_line_errors`` from us.
    """
    modules: list[ModuleType] = []  # each stage appends its module below
    from pipeline.commands import query

    modules.append(query)
    from pipeline.commands import detect

    modules.append(detect)
    from pipeline.commands import diagnose, drift_eval

    modules.extend((diagnose, drift_eval))
    from pipeline.commands import ask, tune

    modules.extend((ask, tune))
    from pipeline.commands import control, incidents, remediate

    modules.extend((incidents, remediate, control))
    from pipeline.commands import agent, simulate

    modules.append(agent)
    modules.append(simulate)
    from pipeline.commands import soak

    modules.append(soak)
    from pipeline.commands import stream

    modules.append(stream)
    from pipeline.commands import change

    modules.append(change)
    return tuple(modules)
