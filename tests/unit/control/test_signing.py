from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.control.signing import ReplayGuard, check_key, verify_request
from pipeline.errors import ActionRefused, ConfigError
from pipeline.models import utc_now
from tests.unit.control.conftest import KEY, OTHER_KEY, request


def test_signed_request_verifies() -> None:
    verify_request(request(), KEY, utc_now())


def test_tampered_field_is_refused() -> None:
    tampered = request().model_copy(update={"params": {"level": 3}})
    with pytest.raises(ActionRefused, match="bad signature"):
        verify_request(tampered, KEY, utc_now())


def test_forged_with_another_key_is_refused() -> None:
    with pytest.raises(ActionRefused, match="bad signature"):
        verify_request(request(key=OTHER_KEY), KEY, utc_now())


def test_unsigned_is_refused() -> None:
    with pytest.raises(ActionRefused, match="unsigned"):
        verify_request(request().model_copy(update={"signature": None}), KEY, utc_now())


def test_expired_is_refused() -> None:
    old = utc_now() - timedelta(hours=1)
    stale = request(issued_at=old, expires_at=old + timedelta(minutes=5))
    with pytest.raises(ActionRefused, match="expired"):
        verify_request(stale, KEY, utc_now())


def test_issued_in_the_future_is_refused() -> None:
    later = utc_now() + timedelta(hours=1)
    with pytest.raises(ActionRefused, match="future"):
        verify_request(
            request(issued_at=later, expires_at=later + timedelta(minutes=5)), KEY, utc_now()
        )


def test_replayed_nonce_is_refused_even_after_restart(tmp_path: Path) -> None:
    now = utc_now()
    guard = ReplayGuard(tmp_path / "nonces.log")
    guard.check_and_remember("ab" * 16, now + timedelta(minutes=5), now)
    with pytest.raises(ActionRefused, match="replayed"):
        guard.check_and_remember("ab" * 16, now + timedelta(minutes=5), now)
    restarted = ReplayGuard(tmp_path / "nonces.log")
    restarted.load()
    with pytest.raises(ActionRefused, match="replayed"):
        restarted.check_and_remember("ab" * 16, now + timedelta(minutes=5), now)
    restarted.check_and_remember("cd" * 16, now + timedelta(minutes=5), now)


def test_expired_nonces_are_forgotten() -> None:
    now = utc_now()
    guard = ReplayGuard()
    guard.check_and_remember("ab" * 16, now + timedelta(seconds=1), now)
    guard.check_and_remember("cd" * 16, now + timedelta(minutes=5), now + timedelta(seconds=2))
    assert len(guard) == 1


@pytest.mark.parametrize("value", ["", "short-key"])
def test_missing_or_short_key_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="HMAC_KEY"):
        check_key(SecretStr(value))
