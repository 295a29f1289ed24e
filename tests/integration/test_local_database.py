"""The demo's database reset on the real InfluxDB: then it exists and is empty, or it raises."""

from __future__ import annotations

import urllib.request
import uuid

import pytest

from pipeline.errors import StackError
from pipeline.local import influxql, reset_database
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


def _databases(url: str) -> set[str]:
    (shown,) = influxql(url, "SHOW DATABASES")
    return {row[0] for series in shown.get("series", []) for row in series["values"]}


def test_reset_leaves_an_empty_database(stack: Stack) -> None:
    database = f"reset_{uuid.uuid4().hex[:8]}"
    reset_database(stack.influx_url, database)  # also when it did not exist before
    url = f"{stack.influx_url}/write?db={database}"
    write = urllib.request.Request(url, b"m v=1", method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(write, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 204
    reset_database(stack.influx_url, database)
    assert database in _databases(stack.influx_url)
    (counted,) = influxql(stack.influx_url, f'SELECT count(v) FROM "{database}".."m"')  # noqa: S608
    assert "series" not in counted  # the point written before the reset is gone
    influxql(stack.influx_url, f'DROP DATABASE "{database}"')


def test_an_error_in_influxdbs_answer_raises_instead_of_passing_silently(stack: Stack) -> None:
    with pytest.raises(StackError, match="failed"):
        influxql(stack.influx_url, "SELEKT 1")
    # InfluxQL errors inside an HTTP 200 answer are found too.
    with pytest.raises(StackError, match="database not found"):
        influxql(stack.influx_url, 'SELECT * FROM "no_such_db_x".."m"')  # noqa: S608
