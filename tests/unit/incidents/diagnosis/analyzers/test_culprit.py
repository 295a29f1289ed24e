from __future__ import annotations

import numpy as np

from pipeline.incidents.diagnosis.analyzers.culprit import top_culprit
from tests.unit.incidents.diagnosis.conftest import ROWS, WINDOW_ROWS, make_node


def test_a_process_that_appears_only_in_the_window_grew_from_zero() -> None:
    node = make_node()
    node.series["proc.newbie.cpu_percent"] = np.r_[
        np.full(ROWS - WINDOW_ROWS, np.nan), np.full(WINDOW_ROWS, 90.0)
    ]
    assert top_culprit(node, "cpu_percent") == "newbie"


def test_fields_are_tried_in_order_never_compared_across_units() -> None:
    node = make_node({"proc.app.rss_bytes": 9e9, "unit.web.throttled_percent": 40.0})
    assert top_culprit(node, "throttled_percent", "rss_bytes") == "web"
    assert top_culprit(node, "oom_kills_per_s") is None


def test_noise_is_not_growth() -> None:
    assert top_culprit(make_node(), "cpu_percent", "rss_bytes", "open_fds") is None
