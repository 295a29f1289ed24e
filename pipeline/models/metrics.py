"""Metric messages: one node's batch per sampling round, and its per-round peer summary."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from pipeline.models.wire import (
    MAX_METRICS_PER_BATCH,
    Labels,
    MetricName,
    NodeId,
    ShortText,
    UtcDatetime,
    WireModel,
)

# Culprit telemetry (the agent's ``top`` and ``units`` collectors): ``proc.<comm>.<field>`` and
# ``unit.<unit>.<field>``, top-N per round, so which of them a batch holds changes from round to
# round and from node to node. They say *who* on a node; the node-level series say *whether*.
CULPRIT_PREFIXES = ("proc.", "unit.")


class MetricBatch(WireModel):
    """All metrics of one node from one sampling round; key on the topic is ``node_id``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from pipeline.models import decode, encode
    >>> batch = MetricBatch(
    ...     node_id="web-01",
    ...     sampled_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...     labels={"role": "web"},
    ...     metrics={"cpu.usage_user": 12.5, "mem.used_percent": 40.0},
    ... )
    >>> decode(MetricBatch, encode(batch)) == batch
    True
    """

    node_id: NodeId
    sampled_at: UtcDatetime
    labels: Labels = Field(default_factory=dict)
    metrics: Annotated[dict[MetricName, float], Field(max_length=MAX_METRICS_PER_BATCH)]
    batch_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    seq: int = Field(default=0, ge=0, description="per-agent sequence number, for ordering")


class PeerSummary(WireModel):
    """One node's mean metrics over one round, re-keyed by its cohort for the peer stage."""

    node_id: NodeId
    cohort: ShortText = Field(description="label=value the node is compared within")
    round_at: UtcDatetime
    metrics: Annotated[dict[MetricName, float], Field(max_length=MAX_METRICS_PER_BATCH)]


class InventoryRecord(WireModel):
    """A node and its labels; key on the compacted inventory topic is ``node_id``.

    The agent publishes one when it starts, when its labels change and every ``refresh_s``: the
    incident stage counts cohorts from these instead of decoding every metric batch, and forgets
    a node that missed a few refreshes.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from pipeline.models import decode, encode
    >>> record = InventoryRecord(
    ...     node_id="web-01", labels={"role": "web"}, refresh_s=300.0,
    ...     published_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ... )
    >>> decode(InventoryRecord, encode(record)) == record
    True
    """

    node_id: NodeId
    labels: Labels = Field(default_factory=dict)
    published_at: UtcDatetime
    refresh_s: float = Field(gt=0.0, le=86_400.0, description="seconds until the next record")
