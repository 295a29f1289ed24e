"""Ed25519 key pairs: private key files for the issuer and operators, the keyring nodes verify with.

The incident stage (role ``issuer``) and each operator (role ``operator``, with an identity) sign
with their own private key; nodes hold only the keyring of public keys, so a node taken over can
verify but not command the fleet. Each keyring entry has a validity window, so a key is rotated by
adding the new one and letting the old one's window run out (both are accepted while they overlap).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import ActionRefused, ConfigError
from pipeline.models import Identifier, UtcDatetime

Role = Literal["issuer", "operator"]


class KeyEntry(BaseModel):
    """One public key of the keyring: whose it is, what it may sign, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: Identifier
    role: Role
    identity: Identifier
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$")  # 32 bytes, base64
    not_before: UtcDatetime
    not_after: UtcDatetime


class PrivateKeyFile(BaseModel):
    """A private key file (mode 0600): the signing half of one keyring entry."""

    model_config = ConfigDict(extra="forbid")

    key_id: Identifier
    role: Role
    identity: Identifier
    private_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$")


@dataclass(frozen=True)
class Signer:
    """Signs bytes as one key id (the issuer's, or one operator's)."""

    key_id: str
    role: Role
    identity: str
    private: Ed25519PrivateKey

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of ``data`` as 128 hex digits."""
        return self.private.sign(data).hex()


class Keyring:
    """Public keys by key id, with role, identity and validity window."""

    def __init__(self, entries: list[KeyEntry]) -> None:
        self.entries = {entry.key_id: entry for entry in entries}
        self._public = {
            entry.key_id: Ed25519PublicKey.from_public_bytes(base64.b64decode(entry.public_key))
            for entry in entries
        }

    def check(
        self, key_id: str | None, signature: str, data: bytes, role: Role, signed_at: datetime,
        now: datetime,
    ) -> KeyEntry:  # fmt: skip
        """The entry that signed ``data``; ActionRefused when the key cannot vouch for it.

        Refused: an unknown key id, a key of another role (an operator key cannot sign
        requests), a message signed outside the key's window or checked after it closed, and a
        signature that does not verify.
        """
        entry = self.entries.get(key_id or "")
        if entry is None:
            raise ActionRefused(f"unknown signing key {key_id!r}")
        if entry.role != role:
            raise ActionRefused(f"key {key_id} is an {entry.role} key, not an {role} key")
        if not entry.not_before <= signed_at <= entry.not_after or now > entry.not_after:
            window = f"{entry.not_before.isoformat()}..{entry.not_after.isoformat()}"
            raise ActionRefused(f"key {key_id} is outside its validity window {window}")
        try:
            self._public[entry.key_id].verify(bytes.fromhex(signature), data)
        except (InvalidSignature, ValueError):
            raise ActionRefused("bad signature (forged or tampered)") from None
        return entry


def generate(
    role: Role, identity: str, not_before: datetime, not_after: datetime
) -> tuple[Signer, KeyEntry]:
    """A new key pair: the signer and its keyring entry."""
    private = Ed25519PrivateKey.generate()
    key_id = f"{role}-{identity}-{secrets.token_hex(4)}"
    public = private.public_key().public_bytes_raw()
    entry = KeyEntry(
        key_id=key_id, role=role, identity=identity,
        public_key=base64.b64encode(public).decode(), not_before=not_before, not_after=not_after,
    )  # fmt: skip
    return Signer(key_id, role, identity, private), entry


def write_signer(path: Path, signer: Signer) -> None:
    """Write ``signer`` to a new file readable by its owner only (never overwrites one)."""
    body = PrivateKeyFile(
        key_id=signer.key_id, role=signer.role, identity=signer.identity,
        private_key=base64.b64encode(signer.private.private_bytes_raw()).decode(),
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(body.model_dump_json(indent=2) + "\n")


def load_signer(path: Path | None) -> Signer:
    """The private key in ``path``; ConfigError when missing, readable by others, or malformed."""
    if path is None:
        raise ConfigError(
            "no signing key: set FLEETWATCH_CONTROL_SIGNING_KEY (`fleetwatch keys generate`)"
        )
    try:
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path} is readable by others: chmod 600 {path}")
        body = PrivateKeyFile.model_validate_json(path.read_text())
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"cannot read signing key {path}: {exc}") from None
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(body.private_key))
    return Signer(body.key_id, body.role, body.identity, private)


def load_keyring(path: Path | None) -> Keyring:
    """The keyring in ``path`` (JSON: ``{"keys": [entry, ...]}``); ConfigError when unusable."""
    if path is None:
        raise ConfigError("no keyring: set FLEETWATCH_CONTROL_KEYRING (`fleetwatch keys generate`)")
    try:
        data = json.loads(path.read_text())
        return Keyring([KeyEntry.model_validate(entry) for entry in data["keys"]])
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise ConfigError(f"cannot read keyring {path}: {exc}") from None


def add_to_keyring(path: Path, entry: KeyEntry) -> None:
    """Append ``entry`` to the keyring file (created when missing), written atomically."""
    entries = list(load_keyring(path).entries.values()) if path.exists() else []
    if any(known.key_id == entry.key_id for known in entries):
        raise ConfigError(f"key id {entry.key_id} is already in {path}")
    body = {"keys": [known.model_dump(mode="json") for known in [*entries, entry]]}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(body, indent=2) + "\n")
    partial.replace(path)


def create_key(
    directory: Path, keyring: Path, role: Role, identity: str, not_before: datetime,
    not_after: datetime,
) -> tuple[Path, KeyEntry]:  # fmt: skip
    """Generate a key pair; returns the private key's path and the keyring entry.

    The private key goes to ``directory/KEY_ID.key`` (mode 0600), the public key into ``keyring``.
    """
    signer, entry = generate(role, identity, not_before, not_after)
    path = directory / f"{entry.key_id}.key"
    write_signer(path, signer)
    add_to_keyring(keyring, entry)
    return path, entry
