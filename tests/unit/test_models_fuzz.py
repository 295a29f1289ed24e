"""Fuzzing decode: arbitrary bytes decode to a valid model or raise InvalidMessage, nothing else."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import InvalidMessage
from pipeline.models import WIRE_MODELS, MetricBatch, decode, encode
from tests.conftest import make_batch

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=512))
def test_arbitrary_bytes_never_escape_as_other_errors(raw: bytes) -> None:
    for model in WIRE_MODELS:
        try:
            decode(model, raw)
        except InvalidMessage as exc:
            assert exc.raw == raw and exc.reason


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(sorted(MetricBatch.model_fields)), value=json_values)
def test_mutating_one_field_of_a_valid_batch_is_accepted_or_refused_cleanly(
    field: str, value: object
) -> None:
    document = json.loads(encode(make_batch()))
    document[field] = value
    raw = json.dumps(document, allow_nan=True).encode()
    try:
        batch = decode(MetricBatch, raw)
    except InvalidMessage:
        return
    # Whatever was accepted must survive a round trip unchanged and be strictly valid again.
    assert decode(MetricBatch, encode(batch)) == batch
