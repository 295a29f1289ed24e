"""Dead letters: a message that could not be processed, kept with the reason."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from pipeline.models.wire import (
    DEAD_LETTER_RAW_BYTES,
    Identifier,
    ShortText,
    UtcDatetime,
    WireModel,
    utc_now,
)


class DeadLetter(WireModel):
    """A message that could not be processed, kept whole (``raw``) with the reason."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    reason: ShortText
    error_type: Identifier
    topic: Annotated[str, StringConstraints(max_length=249)]
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    raw: Annotated[bytes, Field(max_length=DEAD_LETTER_RAW_BYTES)]
    received_at: UtcDatetime = Field(default_factory=utc_now)
