"""Helpers for the identity tests: accounts made through the real sign-up path, links from the
sandbox outbox."""

from __future__ import annotations

import re
import secrets

from sqlmodel import col, select

from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.core.security import hash_password
from backend.integrations import email
from backend.models import Membership, OutboundEmail, User, UserSession, utcnow
from backend.models.enums import Role
from backend.services.identity import email_verification, sessions, signup

PASSWORD = "correct horse battery"
_LINK = re.compile(r"https?://\S+?[?&]token=([A-Za-z0-9]+)")


def unique_email(name: str = "owner") -> str:
    return f"{name}-{secrets.token_hex(4)}@shop.test"


def sign_up(
    address: str | None = None, *, verified: bool = True
) -> tuple[str, sessions.SessionContext]:
    """(session token, context) of a new merchant's owner."""
    address = address or unique_email()
    with session_scope() as db:
        done = signup.sign_up(db, email=address, password=PASSWORD, business_name="Shop")
    email.send_recorded(done.verification_email_id)
    if verified:
        with session_scope() as db:
            email_verification.verify(db, link_token(address, "email_verification"))
    return done.session_token, context(done.session_token)


def context(token: str) -> sessions.SessionContext:
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
    assert ctx is not None
    return ctx


def last_email(address: str, template: str | None = None) -> OutboundEmail:
    with session_scope(readonly=True) as db:
        query = select(OutboundEmail).where(OutboundEmail.to_email == address)
        if template:
            query = query.where(OutboundEmail.template == template)
        row = db.exec(query.order_by(col(OutboundEmail.created_at).desc())).first()
    assert row is not None, f"no {template or ''} e-mail to {address}"
    return row


def link_token(address: str, template: str) -> str:
    match = _LINK.search(last_email(address, template).text_body)
    assert match, "the e-mail has no link"
    return match.group(1)


def member(merchant_id: str, role: Role, *, two_factor: bool = True) -> sessions.SessionContext:
    """A signed-in member of the merchant with that role (2FA on, unless told otherwise)."""
    with session_scope() as db:
        user = User(
            id=new_id("usr"),
            email=f"{role}-{new_id('x')}@shop.test",
            password_hash=hash_password(PASSWORD),
            totp_enabled_at=utcnow() if two_factor else None,
        )
        db.add(user)
        db.flush()
        membership = Membership(
            id=new_id("mem"), merchant_id=merchant_id, user_id=user.id, role=role
        )
        db.add(membership)
        token, _ = sessions.start_session(db, user_id=user.id, merchant_id=membership.merchant_id)
    with session_scope() as db:
        ctx = sessions.resolve(db, token)
    assert ctx is not None
    return ctx


def fresh(ctx: sessions.SessionContext) -> None:
    """As if the member had just entered a second-factor code."""
    with session_scope() as db:
        row = db.get(UserSession, ctx.session_id)
        assert row is not None
        row.step_up_at = utcnow()
        db.add(row)
