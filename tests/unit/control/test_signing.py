from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.control.keys import Keyring, generate, load_signer
from pipeline.control.operators import make_command
from pipeline.control.signing import ReplayGuard, sign_one, verify_command, verify_request
from pipeline.errors import ActionRefused, ConfigError
from pipeline.models import utc_now
from tests.unit.control.conftest import (
    EPOCH,
    FAR,
    ISSUER_ENTRY,
    KEY,
    KEYRING,
    OPERATOR,
    OPERATOR_ENTRY,
    OTHER_KEY,
    request,
)


def test_signed_request_verifies_and_names_its_key() -> None:
    signed = request()
    assert signed.key_id == KEY.key_id
    verify_request(signed, KEYRING, utc_now())


def test_tampered_field_is_refused() -> None:
    tampered = request().model_copy(update={"params": {"level": 3}})
    with pytest.raises(ActionRefused, match="bad signature"):
        verify_request(tampered, KEYRING, utc_now())


def test_a_key_made_on_a_node_is_refused_even_under_the_issuers_key_id() -> None:
    with pytest.raises(ActionRefused, match="unknown signing key"):
        verify_request(request(key=OTHER_KEY), KEYRING, utc_now())
    posing = sign_one(request(), OTHER_KEY).model_copy(update={"key_id": KEY.key_id})
    resigned = posing.model_copy(update={"signature": OTHER_KEY.sign(b"anything")})
    with pytest.raises(ActionRefused, match="bad signature"):
        verify_request(resigned, KEYRING, utc_now())


def test_an_operator_key_cannot_sign_requests() -> None:
    with pytest.raises(ActionRefused, match="operator key, not an issuer key"):
        verify_request(request(key=OPERATOR), KEYRING, utc_now())


def test_unsigned_is_refused() -> None:
    with pytest.raises(ActionRefused, match="unsigned"):
        verify_request(request().model_copy(update={"signature": None}), KEYRING, utc_now())


def test_expired_is_refused() -> None:
    old = utc_now() - timedelta(hours=1)
    stale = request(issued_at=old, expires_at=old + timedelta(minutes=5))
    with pytest.raises(ActionRefused, match="expired"):
        verify_request(stale, KEYRING, utc_now())


def test_issued_in_the_future_is_refused() -> None:
    later = utc_now() + timedelta(hours=1)
    with pytest.raises(ActionRefused, match="future"):
        verify_request(
            request(issued_at=later, expires_at=later + timedelta(minutes=5)), KEYRING, utc_now()
        )


def test_rotation_overlap_accepts_both_keys_then_refuses_the_old_one() -> None:
    now = utc_now()
    old, old_entry = generate("issuer", "fleet", EPOCH, now + timedelta(hours=1))
    new, new_entry = generate("issuer", "fleet", now - timedelta(hours=1), FAR)
    keyring = Keyring([old_entry, new_entry])
    for signer in (old, new):  # inside the overlap both are accepted
        verify_request(request(key=signer), keyring, now)
    after = now + timedelta(hours=2)
    late = request(key=old, issued_at=after, expires_at=after + timedelta(minutes=5))
    with pytest.raises(ActionRefused, match="outside its validity window"):
        verify_request(late, keyring, after)
    fresh = request(key=new, issued_at=after, expires_at=after + timedelta(minutes=5))
    verify_request(fresh, keyring, after)


def test_a_signed_request_is_refused_once_its_key_window_closed() -> None:
    now = utc_now()
    short, entry = generate("issuer", "fleet", EPOCH, now + timedelta(minutes=1))
    signed = request(key=short)
    with pytest.raises(ActionRefused, match="outside its validity window"):
        verify_request(signed, Keyring([entry]), now + timedelta(minutes=2))


def test_approval_by_an_unknown_operator_is_refused() -> None:
    stranger, _ = generate("operator", "mallory", EPOCH, FAR)
    approval = make_command(stranger, "approve", utc_now(), request_id="rq-1")
    with pytest.raises(ActionRefused, match="unknown signing key"):
        verify_command(approval, KEYRING, utc_now())


def test_an_operator_cannot_sign_in_another_operators_name() -> None:
    approval = make_command(OPERATOR, "approve", utc_now(), request_id="rq-1", issued_by="bob")
    with pytest.raises(ActionRefused, match="alice's key but issued by 'bob'"):
        verify_command(approval, KEYRING, utc_now())


def test_operator_command_carries_the_operators_identity() -> None:
    approval = make_command(OPERATOR, "approve", utc_now(), request_id="rq-1")
    assert (approval.issued_by, approval.key_id) == ("alice", OPERATOR_ENTRY.key_id)
    verify_command(approval, KEYRING, utc_now())
    with pytest.raises(ActionRefused, match="issuer key, not an operator key"):
        by_issuer = make_command(KEY, "approve", utc_now(), request_id="rq-1", issued_by="fleet")
        verify_command(by_issuer, KEYRING, utc_now())
    assert ISSUER_ENTRY.role == "issuer"


def test_private_key_file_is_0600_and_refused_when_readable_by_others(tmp_path: Path) -> None:
    from pipeline.control.keys import create_key

    path, _ = create_key(tmp_path, tmp_path / "ring.json", "operator", "alice", EPOCH, FAR)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_signer(path).identity == "alice"
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_signer(path)


def test_replayed_nonce_is_refused_even_after_restart(tmp_path: Path) -> None:
    now = utc_now()
    guard = ReplayGuard(tmp_path / "nonces.log")
    guard.check_and_remember("ab" * 16, now + timedelta(minutes=5), now)
    with pytest.raises(ActionRefused, match="replayed"):
        guard.check_and_remember("ab" * 16, now + timedelta(minutes=5), now)
    restarted = ReplayGuard(tmp_path / "nonces.log")
    restarted.load(now)
    with pytest.raises(ActionRefused, match="replayed"):
        restarted.check_and_remember("ab" * 16, now + timedelta(minutes=5), now)
    restarted.check_and_remember("cd" * 16, now + timedelta(minutes=5), now)


def test_expired_nonces_are_forgotten() -> None:
    now = utc_now()
    guard = ReplayGuard()
    guard.check_and_remember("ab" * 16, now + timedelta(seconds=1), now)
    guard.check_and_remember("cd" * 16, now + timedelta(minutes=5), now + timedelta(seconds=2))
    assert len(guard) == 1


def test_the_nonce_file_stays_bounded_by_the_request_ttl(tmp_path: Path) -> None:
    guard = ReplayGuard(tmp_path / "nonces.log")
    start = utc_now()
    for second in range(2_000):  # one request a second, each valid for 60 s
        now = start + timedelta(seconds=second)
        guard.check_and_remember(f"{second:032x}", now + timedelta(seconds=60), now)
    lines = len((tmp_path / "nonces.log").read_text().splitlines())
    assert len(guard) <= 61
    assert lines == guard.file_lines() <= 2 * 61 + 16


def test_the_old_shared_key_setting_is_refused_with_the_way_forward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.config import ControlSettings, load

    monkeypatch.setenv("FLEETWATCH_CONTROL_HMAC_KEY", "x" * 40)
    with pytest.raises(ConfigError, match="fleetwatch keys generate"):
        load(ControlSettings)
