"""HMAC-SHA256 signatures with expiry and nonces, and the replay guard that remembers them.

The signature covers every field except ``signature`` itself, serialised canonically (sorted keys,
no spaces), so a tampered field, a forged message without the key, and a replayed message (same
nonce) are all told apart and refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr

from pipeline.config import ControlSettings
from pipeline.errors import ActionRefused, ConfigError
from pipeline.models import OperatorCommand, RemediationRequest

MIN_KEY_CHARS = 32
Signed = TypeVar("Signed", RemediationRequest, OperatorCommand)


def new_nonce() -> str:
    """A random 128-bit nonce as 32 hex digits."""
    return secrets.token_hex(16)


def check_key(key: SecretStr) -> bytes:
    """The key as bytes, or ConfigError when it is missing or too short to be safe."""
    value = key.get_secret_value()
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(
            f"{ControlSettings.env_name('hmac_key')} must be at least {MIN_KEY_CHARS} characters "
            f"(got {len(value)}); generate one with `openssl rand -hex 32`"
        )
    return value.encode()


def digest(message: RemediationRequest | OperatorCommand, key: bytes) -> str:
    """HMAC-SHA256 hex digest of ``message`` without its signature."""
    body = message.model_dump(mode="json", exclude={"signature"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def sign_one(message: Signed, key: bytes) -> Signed:
    """A copy of ``message`` carrying its signature."""
    return message.model_copy(update={"signature": digest(message, key)})


def verify_signature(message: RemediationRequest | OperatorCommand, key: bytes) -> None:
    """Raise ActionRefused unless ``message`` is signed with ``key`` and untouched."""
    if message.signature is None:
        raise ActionRefused("unsigned")
    if not hmac.compare_digest(message.signature, digest(message, key)):
        raise ActionRefused("bad signature (forged or tampered)")


def verify_request(request: RemediationRequest, key: bytes, now: datetime) -> None:
    """Signature, then time window; raises ActionRefused naming the reason."""
    verify_signature(request, key)
    if now >= request.expires_at:
        raise ActionRefused(f"expired at {request.expires_at.isoformat()}")
    # A request from the future means a skewed or forging issuer; a minute covers clock skew.
    if request.issued_at - now > timedelta(minutes=1):
        raise ActionRefused(f"issued in the future ({request.issued_at.isoformat()})")


class ReplayGuard:
    """Remembers nonces until their request expires; optionally persisted across restarts.

    Parameters
    ----------
    path
        Append-only file of ``nonce expires_at`` lines, or None to keep them in memory only.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._seen: dict[str, datetime] = {}

    def load(self) -> None:
        """Read nonces remembered by an earlier run (ignoring a missing file)."""
        if self.path is None or not self.path.exists():
            return
        for line in self.path.read_text().splitlines():
            nonce, _, expires = line.partition(" ")
            if nonce and expires:
                self._seen[nonce] = datetime.fromisoformat(expires)

    def check_and_remember(self, nonce: str, expires_at: datetime, now: datetime) -> None:
        """Raise ActionRefused if ``nonce`` was seen before; otherwise remember it."""
        self._forget_expired(now)
        if nonce in self._seen:
            raise ActionRefused(f"replayed nonce {nonce}")
        self._seen[nonce] = expires_at
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as handle:
                handle.write(f"{nonce} {expires_at.isoformat()}\n")

    def _forget_expired(self, now: datetime) -> None:
        # Expired requests are refused on expiry alone, so their nonces need not be kept.
        stale: Iterable[str] = [n for n, at in self._seen.items() if at <= now]
        for nonce in list(stale):
            del self._seen[nonce]

    def __len__(self) -> int:
        return len(self._seen)
