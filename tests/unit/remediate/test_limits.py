from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.errors import ActionRefused
from pipeline.remediate.limits import RateLimiter, check_allowed
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import settings


def test_rate_limit_is_a_sliding_window() -> None:
    limiter = RateLimiter(max_actions=2, window_s=60)
    for second in (0, 10):
        limiter.check("n1", BASE_TIME + timedelta(seconds=second))
        limiter.record("n1", BASE_TIME + timedelta(seconds=second))
    with pytest.raises(ActionRefused, match="rate limit"):
        limiter.check("n1", BASE_TIME + timedelta(seconds=30))
    limiter.check("n2", BASE_TIME + timedelta(seconds=30))
    limiter.check("n1", BASE_TIME + timedelta(seconds=61))


def test_allowlist() -> None:
    check_allowed("drop_caches", settings())
    with pytest.raises(ActionRefused, match="not in allowed_actions"):
        check_allowed("run_script", settings())
    with pytest.raises(ActionRefused, match="not a catalogue action"):
        check_allowed("rm_rf", settings(allowed_actions=["rm_rf"]))
