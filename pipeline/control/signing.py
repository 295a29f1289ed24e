"""Ed25519 signatures over wire messages, with expiry and nonces, and the replay guard.

The signature covers every field except ``signature`` itself (``key_id`` included), serialised
canonically (sorted keys, no spaces), so a tampered field, a message signed by a key the keyring
does not vouch for, and a replayed message (same nonce) are all told apart and refused.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from pipeline.control.keys import KeyEntry, Keyring, Role, Signer
from pipeline.errors import ActionRefused
from pipeline.models import OperatorCommand, RemediationRequest

Signed = TypeVar("Signed", RemediationRequest, OperatorCommand)


def new_nonce() -> str:
    """A random 128-bit nonce as 32 hex digits."""
    return secrets.token_hex(16)


def canonical(message: RemediationRequest | OperatorCommand) -> bytes:
    """The signed bytes: every field but the signature, sorted keys, no spaces."""
    body = message.model_dump(mode="json", exclude={"signature"})
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_one(message: Signed, signer: Signer) -> Signed:
    """A copy of ``message`` carrying ``signer``'s key id and signature."""
    keyed = message.model_copy(update={"key_id": signer.key_id})
    return keyed.model_copy(update={"signature": signer.sign(canonical(keyed))})


def verify_signature(
    message: RemediationRequest | OperatorCommand, keyring: Keyring, role: Role, now: datetime
) -> KeyEntry:
    """The keyring entry that signed ``message`` as ``role``; ActionRefused otherwise."""
    if message.signature is None:
        raise ActionRefused("unsigned")
    return keyring.check(
        message.key_id, message.signature, canonical(message), role, message.issued_at, now
    )


def verify_request(request: RemediationRequest, keyring: Keyring, now: datetime) -> None:
    """Issuer signature, then time window; raises ActionRefused naming the reason."""
    verify_signature(request, keyring, "issuer", now)
    if now >= request.expires_at:
        raise ActionRefused(f"expired at {request.expires_at.isoformat()}")
    # A request from the future means a skewed or forging issuer; a minute covers clock skew.
    if request.issued_at - now > timedelta(minutes=1):
        raise ActionRefused(f"issued in the future ({request.issued_at.isoformat()})")


def verify_command(command: OperatorCommand, keyring: Keyring, now: datetime) -> None:
    """An operator's signature, by the operator the command names; ActionRefused otherwise."""
    entry = verify_signature(command, keyring, "operator", now)
    if entry.identity != command.issued_by:
        raise ActionRefused(
            f"signed with {entry.identity}'s key but issued by {command.issued_by!r}"
        )


class ReplayGuard:
    """Remembers nonces until their request expires; optionally persisted across restarts.

    The store is bounded by the request TTL: expired nonces are forgotten (an expired request is
    refused on expiry alone), and the file is rewritten without them once it holds twice as many
    lines as live nonces, so it never grows beyond what one TTL of requests needs.

    Parameters
    ----------
    path
        File of ``nonce expires_at`` lines, or None to keep them in memory only.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._seen: dict[str, datetime] = {}
        self._lines = 0

    def load(self, now: datetime | None = None) -> None:
        """Read nonces remembered by an earlier run (ignoring a missing file), dropping expired."""
        if self.path is None or not self.path.exists():
            return
        for line in self.path.read_text().splitlines():
            nonce, _, expires = line.partition(" ")
            if nonce and expires:
                self._seen[nonce] = datetime.fromisoformat(expires)
                self._lines += 1
        if now is not None:
            self._forget_expired(now)
            self._compact()

    def check_and_remember(self, nonce: str, expires_at: datetime, now: datetime) -> None:
        """Raise ActionRefused if ``nonce`` was seen before; otherwise remember it."""
        self._forget_expired(now)
        if nonce in self._seen:
            raise ActionRefused(f"replayed nonce {nonce}")
        self._seen[nonce] = expires_at
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(f"{nonce} {expires_at.isoformat()}\n")
        self._lines += 1
        if self._lines > 2 * len(self._seen) + 16:
            self._compact()

    def file_lines(self) -> int:
        """Lines in the nonce file (what a restart reads)."""
        return self._lines

    def _compact(self) -> None:
        if self.path is None:
            return
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text("".join(f"{n} {at.isoformat()}\n" for n, at in self._seen.items()))
        partial.replace(self.path)  # atomic: a crash leaves the old file or the new one
        self._lines = len(self._seen)

    def _forget_expired(self, now: datetime) -> None:
        stale: Iterable[str] = [n for n, at in self._seen.items() if at <= now]
        for nonce in list(stale):
            del self._seen[nonce]

    def __len__(self) -> int:
        return len(self._seen)
