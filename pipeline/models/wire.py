"""The wire base: every fleetwatch message's base model, field types, limits and codec.

Every model is strict: unknown fields are rejected, floats must be finite, datetimes must carry a
time zone and are normalised to UTC, and every collection has an upper bound so one hostile
message cannot exhaust a worker. ``schemas/*.json`` is generated from the models
(``fleetwatch schemas export``), never edited by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from pipeline.errors import InvalidMessage

SCHEMA_VERSION: Final = 1
MAX_METRICS_PER_BATCH = 2048
MAX_LABELS = 32
MAX_MESSAGE_BYTES = 1_048_576
# The smallest message limit of the producers we run: Faust's producer_max_request_size default
# (kafka-python's max_request_size and the broker's message.max.bytes default to ~1 MiB).
KAFKA_MESSAGE_LIMIT_BYTES = 1_000_000
# What a dead letter keeps of the message it stands for. Its JSON carries ``raw`` as base64 (4
# bytes per 3) beside at most ~4 KiB of other fields (a 512-character reason escaped as \uXXXX
# is 3 KiB), and the whole letter must fit KAFKA_MESSAGE_LIMIT_BYTES; the offending message
# stays whole in its own topic for the retention time.
DEAD_LETTER_RAW_BYTES = (KAFKA_MESSAGE_LIMIT_BYTES - 8 * 1024) // 4 * 3

# `<subsystem>.<field>`, optionally with an instance between them (`disk.root.used_percent`,
# `net.eth0.rx_bytes_per_s`). The alphabet excludes every InfluxDB line-protocol special character.
METRIC_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}(\.[a-z0-9_][a-z0-9_-]{0,63}){1,3}$"
NODE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
LABEL_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# Printable text only: label values become InfluxDB tags. Control characters could split a line;
# a backslash before the separator would escape it (found by tests/unit/store fuzzing).
LABEL_VALUE_PATTERN = r"^[^\x00-\x1f\x7f\\]{0,128}$"

MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN)]
NodeId = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY_PATTERN)]
LabelValue = Annotated[str, StringConstraints(pattern=LABEL_VALUE_PATTERN)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=MAX_LABELS)]
ShortText = Annotated[str, StringConstraints(max_length=512)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC or 9999-12-31 west of it
        # A ValueError becomes the field's validation error; an OverflowError would escape
        # pydantic and stop the stage that decodes the message instead of dead-lettering it.
        raise ValueError("datetime out of range in UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: Final[dict[str, int]] = {"info": 0, "warning": 1, "critical": 2}
# Why a window was flagged: the score passed its threshold, the level drifted (Page-Hinkley),
# a bounded series is forecast to run out within the horizon, or it sits at its bound.
Reason = Literal["score", "drift", "forecast", "saturated"]
ParamValue = str | int | float | bool


def utc_now() -> datetime:
    """Return the current time as a tz-aware UTC datetime."""
    return datetime.now(UTC)


class WireModel(BaseModel):
    """Base of every message: strict, immutable, versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=4096)

    schema_version: Literal[1] = SCHEMA_VERSION


M = TypeVar("M", bound=WireModel)


def encode(message: WireModel) -> bytes:
    """Serialise a message to the JSON bytes put on a topic."""
    return message.model_dump_json().encode()


def decode(model: type[M], raw: bytes) -> M:
    """Parse and validate topic bytes as ``model``.

    Raises
    ------
    InvalidMessage
        When the bytes are too large, not JSON, or fail validation; ``reason`` says which field.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}", raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidMessage(_describe(exc, model), raw) from exc


def _describe(exc: ValidationError, model: type[WireModel]) -> str:
    """One line naming the first few failing fields, for dead letters and logs."""
    problems = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)[:3]
    ]
    more = exc.error_count() - len(problems)
    suffix = f" (+{more} more)" if more > 0 else ""
    return f"invalid {model.__name__}: " + "; ".join(problems) + suffix
