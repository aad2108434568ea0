"""Creating merchants, issuing and checking API keys, signing in and out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from backend.core.errors import (
    AuthenticationFailed,
    Conflict,
    RateLimited,
    ValidationFailed,
)
from backend.models import ApiKey, AuditLog, Membership, User, UserSession, utcnow
from backend.services.identity import accounts, api_keys, sessions

PASSWORD = "correct horse battery"


def make_merchant(db: Session, email: str = "owner@shop.test") -> accounts.CreatedMerchant:
    created = accounts.create_merchant(db, email=email, password=PASSWORD, name="Shop")
    db.commit()
    return created


def test_create_merchant_makes_owner_membership_and_test_key(db: Session):
    created = make_merchant(db)
    membership = db.exec(select(Membership).where(Membership.user_id == created.user.id)).one()
    assert membership.role == "owner"
    assert membership.merchant_id == created.merchant.id
    assert created.test_secret_key.startswith("sk_test_")
    assert created.merchant.fee_tier_id == "starter"
    # The key is stored only as a digest; the secret itself is nowhere in the database.
    key = db.exec(select(ApiKey).where(ApiKey.merchant_id == created.merchant.id)).one()
    assert created.test_secret_key not in (key.digest, key.display_prefix)
    assert key.last4 == created.test_secret_key[-4:]
    assert created.user.password_hash.startswith("$argon2id$")
    actions = set(db.exec(select(AuditLog.action)))
    assert {"merchant.created", "api_key.created"} <= actions


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "not valid"),
        ("", PASSWORD, "required"),
        ("a@shop.test", "short", "at least 10"),
        ("a@shop.test", "aaaaaaaaaaaa", "too easy"),
        ("a@shop.test", "password12", "too easy to guess. This is a very common password"),
        ("a@shop.test", "qwertyuiop12", "too easy to guess"),
        ("a@shop.test", "1234567890", "too easy to guess"),
        ("a@shop.test", "x" * 129, "at most 128"),
        ("jonathan@shop.test", "jonathan-is-great", "e-mail name"),
    ],
)
def test_bad_sign_up_details_are_refused_and_change_nothing(db, email, password, message):
    with pytest.raises(ValidationFailed, match=message):
        accounts.create_merchant(db, email=email, password=password)
    db.rollback()
    assert db.exec(select(User)).all() == []


@pytest.mark.parametrize(
    "password", ["password12", "iloveyou2026", "Password123!", "shop.test2026", "abcdefghij"]
)
def test_guessable_passwords_are_refused_with_the_reason_in_words(password: str) -> None:
    with pytest.raises(ValidationFailed, match="too easy to guess") as info:
        accounts.check_password_strength(password, email="owner@shop.test")
    assert info.value.param == "password"
    assert len(info.value.message) > len("That password is too easy to guess. ")
    score, advice = accounts.password_feedback(password, email="owner@shop.test")
    assert score < accounts.MIN_PASSWORD_SCORE and advice == info.value.message


def test_a_passphrase_passes_and_the_meter_says_so() -> None:
    assert accounts.check_password_strength(PASSWORD) == PASSWORD
    assert accounts.password_feedback(PASSWORD) == (4, "Very strong password.")
    assert accounts.password_feedback("short", email=None)[0] == 0


def test_email_is_unique_case_insensitively(db: Session):
    make_merchant(db, "Owner@Shop.test")
    with pytest.raises(Conflict):
        accounts.create_merchant(db, email="owner@shop.TEST", password=PASSWORD)


def test_api_key_authenticates_its_merchant_and_mode(db: Session):
    created = make_merchant(db)
    ctx = api_keys.authenticate(db, created.test_secret_key)
    assert (ctx.merchant_id, ctx.livemode) == (created.merchant.id, False)
    live = api_keys.issue_key(db, created.merchant.id, livemode=True)
    assert live.secret.startswith("sk_live_")
    assert api_keys.authenticate(db, live.secret).livemode is True


@pytest.mark.parametrize(
    "secret", ["", "pk_test_abc", "sk_test_" + "x" * 32, "sk_live_" + "y" * 200, "Bearer sk_test_"]
)
def test_unknown_or_malformed_keys_are_refused(db: Session, secret: str):
    make_merchant(db)
    with pytest.raises(AuthenticationFailed):
        api_keys.authenticate(db, secret)


def test_revoked_and_expired_keys_stop_working(db: Session):
    created = make_merchant(db)
    key = db.exec(select(ApiKey)).one()
    key.revoked_at = utcnow()
    db.commit()
    with pytest.raises(AuthenticationFailed, match="revoked"):
        api_keys.authenticate(db, created.test_secret_key)
    other = api_keys.issue_key(db, created.merchant.id)
    other.api_key.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    with pytest.raises(AuthenticationFailed):
        api_keys.authenticate(db, other.secret)


def test_sign_in_resolve_and_sign_out(db: Session):
    created = make_merchant(db)
    token, row = sessions.sign_in(db, email="OWNER@shop.test", password=PASSWORD)
    db.commit()
    assert token not in row.token_digest
    ctx = sessions.resolve(db, token)
    assert ctx is not None
    assert (ctx.merchant_id, ctx.role, ctx.merchant_name) == (created.merchant.id, "owner", "Shop")
    sessions.sign_out(db, token)
    db.commit()
    assert sessions.resolve(db, token) is None


@pytest.mark.parametrize("email", ["owner@shop.test", "nobody@shop.test", "garbage"])
def test_wrong_credentials_get_one_message(db: Session, email: str):
    make_merchant(db)
    with pytest.raises(AuthenticationFailed, match="Incorrect e-mail or password"):
        sessions.sign_in(db, email=email, password="wrong password!")


def test_repeated_failures_slow_that_address_for_that_account_only(db: Session):
    make_merchant(db)
    for address, ip in (("owner@shop.test", "192.0.2.7"), ("nobody@shop.test", "192.0.2.8")):
        for _ in range(sessions.MAX_FAILED_LOGINS):
            with pytest.raises(AuthenticationFailed):
                sessions.sign_in(db, email=address, password="wrong password!", ip_address=ip)
            db.commit()
        # Known or unknown e-mail alike: the next try from there waits, with the time to wait.
        with pytest.raises(RateLimited, match=r"Try again in 1[56] minutes") as info:
            sessions.sign_in(db, email=address, password=PASSWORD, ip_address=ip)
        assert 0 < info.value.retry_after <= 15 * 60 + 1
    # The owner, elsewhere, is not locked out by those guesses.
    token, _ = sessions.sign_in(
        db, email="owner@shop.test", password=PASSWORD, ip_address="198.51.100.9"
    )
    assert token


def test_idle_and_expired_sessions_end(db: Session, monkeypatch: pytest.MonkeyPatch):
    make_merchant(db)
    token, row = sessions.sign_in(db, email="owner@shop.test", password=PASSWORD)
    db.commit()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.commit()
    assert sessions.resolve(db, token) is None  # idle for longer than 30 minutes

    token, row = sessions.sign_in(db, email="owner@shop.test", password=PASSWORD)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert sessions.resolve(db, token) is None


@pytest.mark.parametrize("token", [None, "", "x" * 500, "not-a-token"])
def test_resolve_rejects_junk_tokens(db: Session, token: str | None):
    assert sessions.resolve(db, token) is None
    assert db.exec(select(UserSession)).all() == []
