"""Idempotency-Key records: claim, replay, reuse refused, in-flight duplicate, crashed claim."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import update

from backend.core.db import session_scope
from backend.core.errors import Conflict, ValidationFailed
from backend.models import IdempotencyKey, utcnow
from backend.services import idempotency
from backend.services.identity import accounts


@pytest.fixture
def merchant_id(db_engine) -> str:  # type: ignore[no-untyped-def]
    with session_scope(db_engine) as db:
        return accounts.create_merchant(
            db, email="idem@shop.test", password="a long passphrase 1"
        ).merchant.id


def begin(engine, merchant_id: str, key: str = "k1", digest: str = "d1"):  # type: ignore[no-untyped-def]
    return idempotency.begin(
        engine,
        merchant_id=merchant_id,
        livemode=False,
        key=key,
        method="POST",
        path="/api/payments/charge",
        digest=digest,
    )


def test_claim_then_replay(db_engine, merchant_id: str):
    claim = begin(db_engine, merchant_id)
    assert isinstance(claim, idempotency.Claim)
    idempotency.complete(db_engine, claim, status=201, body='{"ok": true}')
    replay = begin(db_engine, merchant_id)
    assert replay == idempotency.Replay(201, '{"ok": true}')


def test_same_key_other_request_is_refused(db_engine, merchant_id: str):
    idempotency.complete(db_engine, begin(db_engine, merchant_id), status=201, body="{}")
    with pytest.raises(Conflict) as info:
        begin(db_engine, merchant_id, digest="another body")
    assert info.value.code == "idempotency_key_reused"


def test_in_flight_duplicate_is_told_to_retry_and_a_dead_claim_is_taken_over(
    db_engine, merchant_id: str
):
    first = begin(db_engine, merchant_id)
    with pytest.raises(Conflict) as info:
        begin(db_engine, merchant_id)
    assert info.value.code == "idempotency_key_in_use"
    with session_scope(db_engine) as db:
        db.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(minutes=5)))
    second = begin(db_engine, merchant_id)
    assert isinstance(second, idempotency.Claim)
    assert second.record_id == first.record_id


def test_expired_records_are_forgotten(db_engine, merchant_id: str):
    idempotency.complete(db_engine, begin(db_engine, merchant_id), status=201, body="{}")
    with session_scope(db_engine) as db:
        db.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert isinstance(begin(db_engine, merchant_id, digest="new"), idempotency.Claim)
    assert idempotency.purge_expired(db_engine) == 0


def test_released_claims_can_be_retried(db_engine, merchant_id: str):
    idempotency.release(db_engine, begin(db_engine, merchant_id))
    assert isinstance(begin(db_engine, merchant_id), idempotency.Claim)


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\nkey"])
def test_malformed_keys_are_refused(db_engine, merchant_id: str, key: str):
    with pytest.raises(ValidationFailed):
        begin(db_engine, merchant_id, key=key)


def test_api_key_last_use_is_touched_at_most_once_a_minute(db_engine, merchant_id: str):
    from backend.models import ApiKey
    from backend.services.identity import api_keys

    with session_scope(db_engine) as db:
        issued = api_keys.issue_key(db, merchant_id)
    with session_scope(db_engine, readonly=True) as db:
        assert api_keys.authenticate(db, issued.secret).stale_last_used is True
    with session_scope(db_engine) as db:
        api_keys.touch(db, issued.api_key.id)
    with session_scope(db_engine, readonly=True) as db:
        assert api_keys.authenticate(db, issued.secret).stale_last_used is False
        assert db.get(ApiKey, issued.api_key.id).last_used_at is not None


def test_stored_answers_are_sealed_and_answers_sealed_by_fernet_still_replay(
    db_engine, merchant_id: str
):
    from backend.core import crypto

    claim = begin(db_engine, merchant_id)
    idempotency.complete(db_engine, claim, status=201, body='{"secret": "whsec_abc"}')
    with session_scope(db_engine) as db:
        stored = db.get(IdempotencyKey, claim.record_id).response_body
        assert stored.startswith(crypto.SEALED_PREFIX) and "whsec_abc" not in stored
        # An answer the Fernet-sealing release stored within the last 24 hours.
        db.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == claim.record_id)
            .values(response_body=crypto.encrypt('{"secret": "whsec_old"}'))
        )
    replay = begin(db_engine, merchant_id)
    assert isinstance(replay, idempotency.Replay)
    assert replay.body == '{"secret": "whsec_old"}'


def test_a_sealed_value_opens_only_unchanged_and_with_its_key(monkeypatch):
    from backend.core import crypto
    from backend.core.config import get_settings

    sealed = crypto.seal("ünïcode answer")
    assert crypto.unseal(sealed) == "ünïcode answer"
    assert crypto.seal("same") != crypto.seal("same")  # a fresh nonce each time
    # One bit of the ciphertext flipped (a bit of the bytes, not of the text: the last base64
    # character before the padding carries unused bits that decode to the same bytes).
    raw = bytearray(base64.urlsafe_b64decode(sealed[len(crypto.SEALED_PREFIX) :]))
    raw[len(raw) // 2] ^= 0x01
    flipped = crypto.SEALED_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode()
    for broken in (flipped, sealed[:-8], "s1.!!!", "plain text"):
        with pytest.raises(ValueError):
            crypto.unseal(broken)
    monkeypatch.setattr(get_settings(), "secret_key", "another secret key for this test")
    monkeypatch.setattr(get_settings(), "encryption_key", None)
    with pytest.raises(ValueError):
        crypto.unseal(sealed)
