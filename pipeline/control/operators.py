"""Signed operator commands (silence, ack, approve): build, publish, and read back in full."""

from __future__ import annotations

import getpass
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from pipeline import topics
from pipeline.bus import make_consumer, publish_keyed
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.control.keys import Signer
from pipeline.control.signing import new_nonce, sign_one
from pipeline.errors import InvalidMessage
from pipeline.models import OperatorCommand, decode

DURATION = re.compile(r"^(\d+)([smhd])$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``1d`` → timedelta.

    Raises
    ------
    ValueError
        Naming the accepted forms.
    """
    found = DURATION.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"duration {text!r}: use a positive number and s, m, h or d (e.g. 2h)")
    return timedelta(seconds=int(found.group(1)) * UNIT_S[found.group(2)])


def operator_name() -> str:
    """Who is issuing the command (the login name, made a valid identifier)."""
    name = re.sub(r"[^A-Za-z0-9._:-]", "_", getpass.getuser()) or "operator"
    return name if name[0].isalnum() else "u" + name


def make_command(signer: Signer, kind: str, now: datetime, **fields: object) -> OperatorCommand:
    """A command of ``kind`` (``silence``, ``ack`` or ``approve``) signed by an operator's key."""
    command = OperatorCommand(
        command_id=f"{kind}-{uuid.uuid4().hex[:16]}",
        kind=kind,  # validated by the model
        issued_by=str(fields.pop("issued_by", None) or signer.identity),
        issued_at=now,
        nonce=new_nonce(),
        **fields,
    )
    return sign_one(command, signer)


def publish_command(
    kafka: KafkaSettings, topic_settings: TopicSettings, command: OperatorCommand
) -> None:
    """Send one command and wait until the broker has it."""
    topic = topics.CONTROL.name(topic_settings.prefix)
    publish_keyed(kafka, topic, [(command.command_id, command)])


def read_all_commands(
    kafka: KafkaSettings, topic_settings: TopicSettings, idle_ms: int = 2_000
) -> Iterator[OperatorCommand]:
    """Every command on the control topic from the beginning, until it is idle for ``idle_ms``.

    No consumer group: every reader sees every command, which is what silences need.
    """
    topic = topics.CONTROL.name(topic_settings.prefix)
    consumer = make_consumer(kafka, topic, group_id=None, consumer_timeout_ms=idle_ms)
    try:
        for record in consumer:
            try:
                yield decode(OperatorCommand, record.value)
            except InvalidMessage:
                continue  # the live readers log bad commands; a replay need not repeat that
    finally:
        consumer.close()
