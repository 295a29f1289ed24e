"""The worker's detection gives the outputs recorded before its glue was made faster.

A fixed two-host sequence (seasonal, bounded and culprit series that come and go, a spike, a
level shift and a leak, a save and restore midway) runs through ``BatchProcessor``; every
batch's host verdict, per-series sums and events are compared with
``tests/fixtures/detect_recorded.json``, recorded with the code of main at be7361f. Floats are
compared to 1e-9 relative: the precision matrix comes from the BLAS of the machine, whose last
bits may differ. Set ``FLEETWATCH_RECORD_DETECT=1`` to record again after a deliberate change.
"""

from __future__ import annotations

import json
import math
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import StreamSettings
from pipeline.models import MetricBatch
from pipeline.stream.process import BatchProcessor, Detection
from pipeline.stream.state import NodeModel, encode_node

FIXTURE = Path(__file__).parents[2] / "fixtures" / "detect_recorded.json"
T0 = datetime(2026, 3, 2, 6, tzinfo=UTC)
ROUNDS = 700
RESTORE_AT = 350
PROCESSES = ("postgres", "nginx", "java", "python3", "sshd")


def _metrics(host: int, step: int, rng: random.Random) -> dict[str, float]:
    hour = (step * 10 / 3600.0) % 24
    leak = step * 0.05 if host == 1 and step > 300 else 0
    shift = 4e5 if host == 1 and step > 520 else 0
    full, disk_sd = (99.4, 0.05) if host == 1 else (40, 0.1)
    metrics = {
        "cpu.usage_user": 30 + 10 * math.sin(hour / 24 * 2 * math.pi) + rng.gauss(0, 2),
        "cpu.usage_system": 8 + rng.gauss(0, 1),
        "load.load1": 1.5 + rng.gauss(0, 0.3),
        "mem.used_percent": 60 + leak + rng.gauss(0, 0.3),
        "disk.root.used_percent": full + rng.gauss(0, disk_sd),
        "net.eth0.rx_bytes_per_s": 5e5 + rng.gauss(0, 2e4) + shift,
        "net.eth0.tx_bytes_per_s": 3e5 + rng.gauss(0, 1e4),
    }
    for i in range(8):
        metrics[f"sim.m{i}"] = 10 * i + rng.gauss(0, 1 + i / 4)
    if host == 0 and 480 <= step < 500:  # a spike on the CPU and what follows it
        metrics["cpu.usage_user"] += 55
        metrics["load.load1"] += 6
    for name in rng.sample(PROCESSES, 3):  # culprit series: which ones changes every round
        metrics[f"proc.{name}.cpu_percent"] = abs(rng.gauss(5, 2))
    return metrics


def _summary(detection: Detection) -> list[Any]:
    host = detection.host_score
    assert host is not None
    arrays = host.series.arrays  # type: ignore[attr-defined]
    return [
        host.score, host.onset, host.threshold, host.flagged, host.warming_up, host.detector,
        float(arrays.score.sum()), float(arrays.expected.sum()),
        float(arrays.contribution.sum()), float(arrays.threshold.sum()),
        [s.metric for s in host.flagged_series()],
        [[e.scope, e.metric, e.reason, e.severity, e.score, e.observed] for e in detection.events],
        len(detection.points),
    ]  # fmt: skip


def run_sequence() -> list[list[Any]]:
    """Every batch's summary, hosts interleaved as a worker meets them."""
    processor = BatchProcessor(StreamSettings(window_s=60.0, detail_every_s=60.0))
    models = [processor.new_model(), processor.new_model()]
    rngs = [random.Random(11), random.Random(23)]  # noqa: S311 - reproducible, not secret
    out = []
    for step in range(ROUNDS):
        if step == RESTORE_AT:  # what a restarted worker reads back from the changelog
            models = [processor.restore_model(encode_node(m)) for m in models]
        for host, model in enumerate(models):
            batch = MetricBatch(
                node_id=f"host-{host}",
                sampled_at=T0 + timedelta(seconds=10 * step + host),
                labels={"role": "db" if host else "web"},
                metrics=_metrics(host, step, rngs[host]),
            )
            out.append(_summary(processor.process_one(model, batch)))
    return out


def _close(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(map(_close, got, want))
    return bool(got == want)


def _rounded(value: Any) -> Any:
    """Twelve significant digits: as much as the comparison reads, a smaller fixture."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return [_rounded(v) for v in value] if isinstance(value, list) else value


def test_detection_outputs_equal_the_recorded_ones() -> None:
    got = json.loads(json.dumps(run_sequence()))  # tuples as lists, as recorded
    if os.environ.get("FLEETWATCH_RECORD_DETECT") == "1":
        FIXTURE.write_text(json.dumps(_rounded(got), separators=(",", ":")) + "\n")
        pytest.skip("recorded")
    want = json.loads(FIXTURE.read_text())
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert _close(g, w), f"batch {i} (round {i // 2}, host-{i % 2}): {g} != {w}"
    # The sequence exercises what the glue handles: flags, events and points.
    assert any(row[3] for row in want) and any(row[10] for row in want)
    assert sum(len(row[11]) for row in want) >= 3


def test_a_restored_model_continues_as_the_live_one() -> None:
    processor = BatchProcessor(StreamSettings(window_s=60.0))
    live: NodeModel = processor.new_model()
    rng_live, rng_copy = random.Random(5), random.Random(5)  # noqa: S311
    for step in range(200):
        metrics = _metrics(0, step, rng_live)
        _metrics(0, step, rng_copy)
        processor.process_one(live, _batch(metrics, step))
    copy = processor.restore_model(encode_node(live))
    for step in range(200, 260):
        metrics = _metrics(0, step, rng_live)
        assert metrics == _metrics(0, step, rng_copy)
        a = _summary(processor.process_one(live, _batch(metrics, step)))
        b = _summary(processor.process_one(copy, _batch(metrics, step)))
        assert a == b


def _batch(metrics: dict[str, float], step: int) -> MetricBatch:
    at = T0 + timedelta(seconds=10 * step)
    return MetricBatch(node_id="host-0", sampled_at=at, labels={"role": "web"}, metrics=metrics)
