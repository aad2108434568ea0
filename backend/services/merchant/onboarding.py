"""What a new merchant's owner still has to do before taking live payments, from their rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.core.db import session_scope
from backend.models import User
from backend.models.enums import Role
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import bank_accounts


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    why: str
    href: str
    done: bool


def checklist(db: Session, ctx: SessionContext) -> list[Step]:
    """The owner's steps, in the order they make sense; empty for other roles, whose own
    account steps are on the Security page."""
    user = db.get(User, ctx.user_id)
    if ctx.role != Role.OWNER or user is None:
        return []
    return [
        Step(
            "email",
            "Confirm your e-mail address",
            "Live mode and team invitations wait for it.",
            "/settings/security",
            user.email_verified_at is not None,
        ),
        Step(
            "phone",
            "Verify your mobile number",
            "A text-message code is your second way in if you lose your authenticator.",
            "/settings/security",
            user.phone_verified_at is not None,
        ),
        Step(
            "two_factor",
            "Turn on two-factor authentication",
            "Live API keys, large refunds and bank changes ask for a code.",
            "/settings/security",
            user.totp_enabled_at is not None,
        ),
        Step(
            "bank",
            "Connect your payout bank account",
            "Verified through Plaid by signing in to your bank.",
            "/settings/bank",
            bank_accounts.current(db, ctx.merchant_id) is not None,
        ),
    ]


def read_checklist(ctx: SessionContext) -> list[Step]:
    """checklist in a read-only unit of work of its own."""
    with session_scope(readonly=True) as db:
        return checklist(db, ctx)
