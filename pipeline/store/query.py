"""Flux queries operators and tools run against InfluxDB."""

from __future__ import annotations

import re

from influxdb_client import InfluxDBClient

from pipeline.config import InfluxSettings


def count_points(
    influx: InfluxSettings, measurement: str, node_regex: str, since: str = "-1h"
) -> int:
    """Number of points of ``measurement`` whose node tag matches ``node_regex``."""
    _check_flux_literal(measurement)
    flux = (
        f'from(bucket: "{influx.bucket}") |> range(start: {since})'
        f' |> filter(fn: (r) => r._measurement == "{measurement}" and r.node =~ /{node_regex}/)'
        " |> group() |> count()"
    )
    with _client(influx) as client:
        tables = client.query_api().query(flux, org=influx.org)
    return sum(int(record.get_value()) for table in tables for record in table.records)


def _client(influx: InfluxSettings) -> InfluxDBClient:
    return InfluxDBClient(
        url=influx.url,
        token=influx.token.get_secret_value(),
        org=influx.org,
        timeout=influx.timeout_ms,
    )


def _check_flux_literal(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", value):
        raise ValueError(f"{value!r} is not a plain name")
