"""A logging filter that masks secrets in third-party log lines (kafka-python prints its config)."""

from __future__ import annotations

import logging
import re

# Keys whose values are secrets, as kafka-python, aiokafka and our settings spell them, followed by
# a quoted value (dict reprs) or a bare one (key=value); the value becomes ***.
_SECRET_VALUE = re.compile(
    r"""(?P<key>['"]?(?:sasl_plain_password|sasl_password|password|token|private_key|ssl_password)"""
    r"""['"]?\s*[:=]\s*)(?P<value>'[^']*'|"[^"]*"|[^\s,}]+)""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the value of every secret-named key replaced by ``***``.

    Examples
    --------
    >>> redact("{'sasl_plain_password': 'hunter2', 'client_id': 'fw'}")
    "{'sasl_plain_password': '***', 'client_id': 'fw'}"
    >>> redact("token=abc retries=3")
    'token=*** retries=3'
    """
    return _SECRET_VALUE.sub(lambda m: m["key"] + _mask(m["value"]), text)


def _mask(value: str) -> str:
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{quote}***{quote}"


class RedactSecrets(logging.Filter):
    """Rewrite each record's message with :func:`redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in the formatted message; never drops a record."""
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
