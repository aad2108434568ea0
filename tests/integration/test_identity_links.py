"""Sign-up, e-mail verification and password reset through the service layer, on SQLite and
PostgreSQL: single-use, expiring, hashed-at-rest links and their rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import RateLimited, ValidationFailed
from backend.integrations import email
from backend.models import ActionToken, AuditLog, User, UserSession, utcnow
from backend.services.identity import email_verification, password_reset, sessions, signup, tokens
from tests.integration.identity_support import (
    PASSWORD,
    context,
    last_email,
    link_token,
    sign_up,
    unique_email,
)

pytestmark = pytest.mark.usefixtures("configured_app")


def _actions(merchant_id: str) -> list[str]:
    with session_scope(readonly=True) as db:
        return list(
            db.exec(
                select(AuditLog.action)
                .where(AuditLog.merchant_id == merchant_id)
                .order_by(AuditLog.created_at)
            )
        )


def test_sign_up_signs_in_and_mails_a_verification_link_stored_only_as_a_digest() -> None:
    address = unique_email()
    token, ctx = sign_up(address, verified=False)
    assert ctx.role == "owner" and ctx.email == address and not ctx.email_verified
    message = last_email(address, "email_verification")
    assert message.status == "sent" and message.provider == "sandbox"
    assert "/verify-email?token=" in message.text_body and "href=" in (message.html_body or "")
    link = link_token(address, "email_verification")
    with session_scope(readonly=True) as db:
        stored = db.exec(select(ActionToken).where(ActionToken.email == address)).one()
    assert link not in stored.token_digest and len(stored.token_digest) == 64

    with session_scope() as db:
        user = email_verification.verify(db, link)
    assert user.email_verified_at is not None
    assert context(token).email_verified
    # Single use: the same link again is refused, and changes nothing.
    with session_scope() as db, pytest.raises(ValidationFailed, match="expired or was already"):
        email_verification.verify(db, link)
    assert {"merchant.created", "user.signed_in", "user.email_verified"} <= set(
        _actions(ctx.merchant_id)
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"business_name": "  "}, "business name"),
        ({"password": "short"}, "at least 10"),
        ({"email": "not-an-email"}, "not valid"),
        ({"password": 12345}, "e-mail address and a password"),
    ],
)
def test_bad_sign_up_changes_nothing(fields: dict, message: str) -> None:
    address = unique_email()
    values = {"email": address, "password": PASSWORD, "business_name": "Shop", **fields}
    with pytest.raises(ValidationFailed, match=message), session_scope() as db:
        signup.sign_up(db, **values)
    with session_scope(readonly=True) as db:
        assert db.exec(select(User).where(User.email == address)).first() is None


def test_verification_link_expires_and_a_new_one_replaces_the_old() -> None:
    address = unique_email()
    _, ctx = sign_up(address, verified=False)
    first = link_token(address, "email_verification")
    with session_scope() as db:
        row = db.exec(select(ActionToken).where(ActionToken.email == address)).one()
        row.created_at = utcnow() - timedelta(hours=2)  # outside the resend interval
        db.add(row)
    with session_scope() as db:
        email_id = email_verification.resend(db, ctx.user_id)
    assert email_id is not None
    email.send_recorded(email_id)
    second = link_token(address, "email_verification")
    assert second != first
    with session_scope() as db, pytest.raises(ValidationFailed):
        email_verification.verify(db, first)  # replaced by the newer link

    with session_scope() as db:
        row = db.exec(
            select(ActionToken).where(ActionToken.email == address, ActionToken.used_at.is_(None))  # type: ignore[union-attr]
        ).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    with session_scope() as db, pytest.raises(ValidationFailed, match="expired"):
        email_verification.verify(db, second)


def test_resend_is_rate_limited_and_says_how_long() -> None:
    _, ctx = sign_up(verified=False)
    with pytest.raises(RateLimited, match=r"another in \d+ seconds") as info, session_scope() as db:
        email_verification.resend(db, ctx.user_id)  # the sign-up e-mail went a moment ago
    assert 0 < info.value.retry_after <= 61


def test_resend_after_verification_sends_nothing() -> None:
    _, ctx = sign_up(verified=True)
    with session_scope() as db:
        assert email_verification.resend(db, ctx.user_id) is None


@pytest.mark.parametrize("junk", [None, "", 42, "x" * 500, "not-a-real-token"])
def test_junk_links_are_refused(junk: object) -> None:
    with session_scope() as db, pytest.raises(ValidationFailed):
        email_verification.verify(db, junk)
    with session_scope() as db, pytest.raises(ValidationFailed):
        password_reset.check_link(db, junk)


def test_forgot_password_says_nothing_about_unknown_addresses() -> None:
    with session_scope() as db:
        assert password_reset.request_reset(db, unique_email("nobody")) is None
    with session_scope() as db, pytest.raises(ValidationFailed):
        password_reset.request_reset(db, "not an address")


def test_password_reset_is_single_use_and_signs_out_every_session() -> None:
    address = unique_email()
    first_token, ctx = sign_up(address)
    with session_scope() as db:
        other_token, _ = sessions.sign_in(db, email=address, password=PASSWORD)
    with session_scope() as db:
        email_id = password_reset.request_reset(db, address.upper(), ip_address="198.51.100.7")
    assert email_id is not None
    email.send_recorded(email_id)
    link = link_token(address, "password_reset")
    with session_scope(readonly=True) as db:
        assert password_reset.check_link(db, link) == address

    # A weak password is refused and the link keeps working.
    with session_scope() as db, pytest.raises(ValidationFailed, match="at least 10"):
        password_reset.reset_password(db, link, "short")
    with session_scope() as db, pytest.raises(ValidationFailed, match="very common password"):
        password_reset.reset_password(db, link, "password12")
    new_password = "a much better passphrase"
    with session_scope() as db:
        _, notice_id = password_reset.reset_password(db, link, new_password)
    email.send_recorded(notice_id)
    with session_scope(readonly=True) as db:
        assert sessions.resolve(db, first_token) is None
        assert sessions.resolve(db, other_token) is None
    assert last_email(address, "password_changed").status == "sent"
    with session_scope() as db, pytest.raises(ValidationFailed, match="already used"):
        password_reset.reset_password(db, link, "yet another passphrase")
    with session_scope() as db:
        sessions.sign_in(db, email=address, password=new_password)
    assert {"user.password_reset_requested", "user.password_reset"} <= set(
        _actions(ctx.merchant_id)
    )


def test_reset_link_expires_after_an_hour() -> None:
    address = unique_email()
    sign_up(address)
    with session_scope() as db:
        email_id = password_reset.request_reset(db, address)
    assert email_id
    link = link_token(address, "password_reset")
    with session_scope() as db:
        row = db.exec(
            select(ActionToken).where(
                ActionToken.email == address, ActionToken.purpose == tokens.Purpose.PASSWORD_RESET
            )
        ).one()
        assert row.expires_at - row.created_at == timedelta(hours=1)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    with session_scope() as db, pytest.raises(ValidationFailed, match="expired"):
        password_reset.reset_password(db, link, "a much better passphrase")


def test_reset_requests_are_capped_silently() -> None:
    address = unique_email()
    sign_up(address)
    with session_scope() as db:
        assert password_reset.request_reset(db, address) is not None
    with session_scope() as db:  # within the minute: nothing more is sent, and no error says so
        assert password_reset.request_reset(db, address) is None


def test_sessions_list_revoke_one_and_sign_out_others() -> None:
    address = unique_email()
    mine, ctx = sign_up(address)
    with session_scope() as db:
        other, other_row = sessions.sign_in(
            db, email=address, password=PASSWORD, ip_address="203.0.113.9", user_agent="Firefox"
        )
        third, _ = sessions.sign_in(db, email=address, password=PASSWORD)
    with session_scope(readonly=True) as db:
        assert len(sessions.active_sessions(db, ctx.user_id)) == 3
    with session_scope() as db:
        sessions.revoke_session(db, ctx, other_row.id)
    with session_scope(readonly=True) as db:
        assert sessions.resolve(db, other) is None
    # Someone else's session id is unknown to me.
    _, stranger = sign_up()
    with session_scope() as db, pytest.raises(Exception, match="not signed in"):
        sessions.revoke_session(db, stranger, ctx.session_id)
    with session_scope() as db:
        assert sessions.sign_out_others(db, ctx) == 1
    with session_scope(readonly=True) as db:
        assert sessions.resolve(db, third) is None
        assert sessions.resolve(db, mine) is not None
        assert [s.id for s in sessions.active_sessions(db, ctx.user_id)] == [ctx.session_id]
        assert db.get(UserSession, ctx.session_id).revoked_at is None


def test_sign_up_refuses_a_guessable_password_saying_why_and_creates_nothing() -> None:
    address = unique_email()
    with session_scope() as db, pytest.raises(ValidationFailed) as info:
        signup.sign_up(db, email=address, password="password12", business_name="Shop")
    assert info.value.param == "password"
    assert "too easy to guess" in info.value.message
    assert "very common password" in info.value.message
    with session_scope(readonly=True) as db:
        assert db.exec(select(User).where(User.email == address)).first() is None
