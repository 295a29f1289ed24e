"""The worker's Faust app authenticates to Kafka exactly as the kafka-python clients do."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from pipeline.bus import connection_options
from pipeline.config import KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import make_app

SECRET = "pw-never-shown-7f3a"  # noqa: S105 - a test value, to look for


def _worker_auth(kafka: KafkaSettings, tmp_path: Path) -> dict[str, Any]:
    """What aiokafka receives from the worker's app (Faust's own conversion)."""
    stream = StreamSettings(data_dir=tmp_path, store="memory")
    app = make_app(kafka, TopicSettings(), stream)
    return credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_settings_reach_the_worker_like_every_other_client(
    protocol: str, mechanism: str, tmp_path: Path
) -> None:
    kafka = KafkaSettings(
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        sasl_username="fleet",
        sasl_password=SECRET,
        ssl_cafile=Path(certifi.where()) if protocol == "SASL_SSL" else None,
    )
    worker, other = _worker_auth(kafka, tmp_path), connection_options(kafka)
    assert worker["security_protocol"] == other["security_protocol"] == protocol
    assert worker["sasl_mechanism"] == other["sasl_mechanism"] == mechanism
    assert worker["sasl_plain_username"] == other["sasl_plain_username"] == "fleet"
    assert worker["sasl_plain_password"] == other["sasl_plain_password"] == SECRET
    if protocol == "SASL_SSL":
        context = worker["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.get_ca_certs(), "the CA bundle from ssl_cafile was not loaded"
    else:
        assert worker["ssl_context"] is None


def test_tls_without_sasl(tmp_path: Path) -> None:
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile=Path(certifi.where()))
    auth = _worker_auth(kafka, tmp_path)
    assert auth["security_protocol"] == "SSL" == connection_options(kafka)["security_protocol"]
    assert auth["ssl_context"].get_ca_certs()


def test_plaintext_needs_no_credentials(tmp_path: Path) -> None:
    auth = _worker_auth(KafkaSettings(), tmp_path)
    assert auth["security_protocol"] == "PLAINTEXT"
    assert "sasl_plain_password" not in auth


def test_missing_ca_file_fails_at_startup(tmp_path: Path) -> None:
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile=tmp_path / "absent.pem")
    with pytest.raises(FileNotFoundError):
        _worker_auth(kafka, tmp_path)


def test_credentials_do_not_show_the_password(tmp_path: Path) -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="fleet",
        sasl_password=SECRET,
    )
    app = make_app(kafka, TopicSettings(), StreamSettings(data_dir=tmp_path, store="memory"))
    assert SECRET not in repr(app.conf.broker_credentials)
    assert SECRET not in repr(kafka) and SECRET not in str(kafka.model_dump())
