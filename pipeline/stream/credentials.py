"""Kafka security settings as Faust (aiokafka) takes them, so SASL/TLS apply to the worker too."""

from __future__ import annotations

import ssl

from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import CredentialsT

from pipeline.config import KafkaSettings


def broker_credentials(kafka: KafkaSettings) -> CredentialsT | None:
    """Faust ``broker_credentials`` for ``kafka.security_protocol`` (None for PLAINTEXT).

    The same settings drive kafka-python in ``pipeline.bus``, so agents, the worker and the CLI
    authenticate alike. TLS verifies the broker against ``ssl_cafile`` (or the system CAs).

    Examples
    --------
    >>> broker_credentials(KafkaSettings()) is None
    True
    >>> creds = broker_credentials(
    ...     KafkaSettings(
    ...         security_protocol="SASL_PLAINTEXT",
    ...         sasl_mechanism="SCRAM-SHA-512",
    ...         sasl_username="fw",
    ...         sasl_password="s3cret",
    ...     )
    ... )
    >>> creds.protocol.value, creds.mechanism.value, creds.username
    ('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'fw')
    >>> "s3cret" in repr(creds)
    False
    """
    protocol = kafka.security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = _ssl_context(kafka) if protocol in ("SSL", "SASL_SSL") else None
    if protocol == "SSL":
        return SSLCredentials(context)
    password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
    return SASLCredentials(
        username=kafka.sasl_username,
        password=password,
        ssl_context=context,
        mechanism=kafka.sasl_mechanism or "PLAIN",
    )


def _ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    cafile = str(kafka.ssl_cafile) if kafka.ssl_cafile else None
    return ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH, cafile=cafile)
