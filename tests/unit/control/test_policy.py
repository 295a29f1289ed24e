from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.control.policy import BlastRadiusGuard, allowed_in_group
from pipeline.errors import ActionRefused
from tests.conftest import BASE_TIME


@pytest.mark.parametrize(("share", "population", "allowed"), [(0.2, 50, 10), (0.1, 5, 1)])
def test_share_of_a_group(share: float, population: int, allowed: int) -> None:
    assert allowed_in_group(share, population) == allowed


def test_blast_radius_admits_only_the_share_of_a_group() -> None:
    guard = BlastRadiusGuard(max_nodes=100, max_share=0.2, window_s=900)
    admitted = 0
    for i in range(50):
        try:
            guard.admit(f"n{i}", "role=web", 50, BASE_TIME)
            admitted += 1
        except ActionRefused as exc:
            assert "of 50 role=web" in str(exc)
    assert admitted == 10
    guard.admit("n0", "role=web", 50, BASE_TIME)  # a node already admitted is not a new one
    guard.admit("d0", "role=db", 10, BASE_TIME)
    guard.admit("n40", "role=web", 50, BASE_TIME + timedelta(seconds=901))  # window moved on


def test_blast_radius_absolute_cap() -> None:
    guard = BlastRadiusGuard(max_nodes=3, max_share=1.0, window_s=60)
    for i in range(3):
        guard.admit(f"n{i}", None, None, BASE_TIME)
    with pytest.raises(ActionRefused, match="3 nodes"):
        guard.admit("n9", None, None, BASE_TIME)
    assert guard.seen_nodes(BASE_TIME) == 3


def test_actions_under_a_narrow_group_count_against_the_broad_one() -> None:
    guard = BlastRadiusGuard(max_nodes=100, max_share=0.2, window_s=900)
    for i in range(4):  # a zone's incident acted on four web nodes
        guard.admit(f"w{i}", "zone=z0", 20, BASE_TIME, {"role": "web", "zone": "z0"})
    admitted = 0
    for i in range(4, 50):  # the role's incident may add only up to 20 % of 50 = 10 in all
        try:
            guard.admit(f"w{i}", "role=web", 50, BASE_TIME, {"role": "web", "zone": "z1"})
            admitted += 1
        except ActionRefused:
            pass
    assert admitted == 6
