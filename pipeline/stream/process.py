"""Pure processing of one MetricBatch with its node's models: scores, anomaly events, points."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from influxdb_client.client.write.point import Point

from pipeline.config import StreamSettings
from pipeline.detect.base import HostScore
from pipeline.detect.registry import make_host_detector, restore_host_detector
from pipeline.detect.windowing import WindowTracker
from pipeline.models import AnomalyEvent, MetricBatch
from pipeline.store.points import anomaly_point, metric_points, score_points
from pipeline.stream.state import NodeModel, decode_node


@dataclass
class Detection:
    """Everything one batch produced, ready to be sent and written."""

    host_score: HostScore | None
    events: list[AnomalyEvent] = field(default_factory=list)
    points: list[Point | str] = field(default_factory=list)  # str: a line-protocol line


class BatchProcessor:
    """Turns batches into detections with each node's models; no I/O.

    Parameters
    ----------
    settings
        Detector name, window length and detail downsampling.
    """

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        make_host_detector(**self.detector_params())  # fail fast on an unknown detector name

    def detector_params(self) -> dict[str, Any]:
        """The detector's name and the settings it takes (the default one: its horizon)."""
        params: dict[str, Any] = {"name": self.settings.detector}
        if self.settings.detector == "default":
            params["forecast_horizon_s"] = self.settings.forecast_horizon_s
        return params

    def new_model(self) -> NodeModel:
        """Models of a node never seen before (they warm up)."""
        return NodeModel(
            detector=make_host_detector(**self.detector_params()),
            windows=WindowTracker(window_s=self.settings.window_s),
        )

    def restore_model(self, data: bytes) -> NodeModel:
        """Models of a node as they were saved.

        Raises
        ------
        ValueError
            When ``data`` is not a readable node snapshot.
        """
        saved = decode_node(data)
        model = NodeModel(
            detector=restore_host_detector(saved.detector),
            windows=WindowTracker.restore(saved.windows),
            partition=saved.partition,
            offset=saved.offset,
        )
        model.recent_batches.extend(saved.recent_batches)
        return model

    def process_one(self, model: NodeModel, batch: MetricBatch) -> Detection:
        """Score and learn ``batch``, update the windows and build what goes out."""
        host_score = model.detector.process_one(dict(batch.metrics), batch.sampled_at)
        events = model.windows.update(batch.node_id, batch.labels, batch.sampled_at, host_score)
        detection = Detection(host_score=host_score)
        self.add_events(detection, events)
        if self._detail_due(model, batch.sampled_at):
            detection.points.extend(metric_points(batch))
            detection.points.extend(
                score_points(
                    batch.node_id,
                    batch.labels,
                    batch.sampled_at,
                    host_score.score,
                    host_score.detector,
                    host_score.series.values(),
                )
            )
        return detection

    def expire_one(self, model: NodeModel, now: datetime) -> list[AnomalyEvent]:
        """Close the node's window if it ended before ``now`` (the node went quiet)."""
        events: list[AnomalyEvent] = model.windows.expire(now)
        return events

    def add_events(self, detection: Detection, events: list[AnomalyEvent]) -> None:
        """Add events and their points to ``detection``."""
        for event in events:
            detection.events.append(event)
            detection.points.append(anomaly_point(event))

    def _detail_due(self, model: NodeModel, at: datetime) -> bool:
        """Raw metrics and scores at most once per ``detail_every_s`` of sample time per node."""
        if not self.settings.write_detail:
            return False
        if self.settings.detail_every_s <= 0:
            return True
        bucket = int(at.timestamp() // self.settings.detail_every_s)
        if bucket == model.detail_bucket:
            return False
        model.detail_bucket = bucket
        return True
