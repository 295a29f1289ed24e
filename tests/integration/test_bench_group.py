"""``fleetwatch bench pipeline --workers 2``: a group of workers adds up, nothing lost or twice."""

from __future__ import annotations

import pytest

from pipeline.commands.stream_bench import run_bench
from pipeline.config import InfluxSettings, KafkaSettings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(600)
def test_bench_times_a_group_of_two_workers_on_the_same_backlog(
    kafka: KafkaSettings, influx: InfluxSettings
) -> None:
    nodes, metrics, rounds = 10, 12, 800  # more than one raw-consume chunk of 5,000
    result = run_bench(
        kafka, influx, nodes, metrics, rounds, window_s=4.0, faults=1, partitions=4, workers=2
    )
    sent = nodes * rounds
    group = result.readings["group"]
    # Two workers share the partitions: together they process every batch (none lost, every
    # offset committed once they stopped); a batch re-read after a rebalance before its node
    # was saved counts twice and is reported as such. The second worker of a fresh group used
    # to skip the backlog of partitions nobody had committed yet (issue 17). The bench lets the
    # group save (acknowledge) the backlog before a worker joins and before it stops: read too
    # early, a group that drained its backlog faster than a node's first save, then re-read it
    # after each rebalance, showed nearly all of it unacknowledged.
    assert result.workers == 2
    assert result.group_lost == 0
    assert result.group_unacknowledged == 0
    assert result.group_expected == sent
    assert group.read == result.group_expected + result.group_processed_twice
    assert result.points_per_s == pytest.approx(metrics * group.per_s)
    assert result.one_worker_points_per_s == pytest.approx(
        metrics * result.readings["worker"].per_s
    )
    assert result.scaling == pytest.approx(result.points_per_s / result.one_worker_points_per_s)
    assert result.ratio_to_raw_consume == pytest.approx(
        result.one_worker_points_per_s / result.raw_consume_points_per_s
    )
