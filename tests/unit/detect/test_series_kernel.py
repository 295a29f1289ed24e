"""The compiled per-series pass: what it must leave alone, and the state it accepts."""

from __future__ import annotations

import numpy as np

from pipeline.detect import robust

PARAMS = robust.SeriesParams(warmup=5)
NAMES = ("a.x", "a.y", "a.z")


def _warmed_state() -> dict[str, np.ndarray]:
    state = robust.empty_state(3, PARAMS)
    rng = np.random.default_rng(3)
    for i in range(200):
        values = np.array([10.0, 50.0, -5.0]) + rng.normal(0, 1, 3)
        robust.process(state, slice(0, 3), NAMES, values, 1.7e9 + 10 * i, PARAMS, True, 10.0)
    return state


def _copy(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: array.copy() for name, array in state.items()}


def test_scoring_without_learning_changes_no_state() -> None:
    state = _warmed_state()
    before = _copy(state)
    arrays, *_ = robust.process(
        state, slice(0, 3), NAMES, np.array([10.0, 90.0, -5.0]), 1.7e9 + 5000, PARAMS, False, 10.0
    )
    assert arrays.flagged.tolist() == [False, True, False]
    for name in robust.STATE_FIELDS:
        assert np.array_equal(state[name], before[name]), name


def test_a_missing_value_is_neither_scored_nor_learned_and_the_others_are() -> None:
    state = _warmed_state()
    before = _copy(state)
    values = np.array([np.nan, 50.0, np.inf])
    arrays, z, *_ = robust.process(
        state, slice(0, 3), NAMES, values, 1.7e9 + 5000, PARAMS, True, 10.0
    )
    assert arrays.score[[0, 2]].tolist() == [0.0, 0.0]
    assert z[[0, 2]].tolist() == [0.0, 0.0]
    assert state["count"].tolist() == [
        before["count"][0],
        before["count"][1] + 1,
        before["count"][2],
    ]
    for name in ("level", "trend", "scale", "zq", "low", "high"):
        assert state[name][0] == before[name][0], name
        assert state[name][2] == before[name][2], name
    assert state["level"][1] != before["level"][1]


def test_only_the_given_rows_move_whatever_their_order() -> None:
    state = _warmed_state()
    before = _copy(state)
    rows = np.array([2, 0], dtype=np.intp)
    arrays, *_ = robust.process(
        state, rows, ("a.z", "a.x"), np.array([-5.0, 10.0]), 1.7e9 + 5000, PARAMS, True, 10.0
    )
    assert np.allclose(arrays.expected, [before["level"][2], before["level"][0]], atol=1.0)
    assert state["count"][1] == before["count"][1]
    assert state["count"][[0, 2]].tolist() == (before["count"][[0, 2]] + 1).tolist()


def test_restored_state_of_any_dtype_is_brought_to_the_kernels_dtypes() -> None:
    saved = {name: array.astype(np.float32) for name, array in _warmed_state().items()}
    state = robust.migrate_state(saved)
    fresh = robust.empty_state(0, PARAMS)
    assert {name: state[name].dtype for name in state} == {n: fresh[n].dtype for n in state}
    arrays, *_ = robust.process(
        state, slice(0, 3), NAMES, np.array([10.0, 50.0, -5.0]), 1.7e9 + 5000, PARAMS, True, 10.0
    )
    assert not arrays.flagged.any()
