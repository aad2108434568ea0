"""Proving an e-mail address: a single-use link valid for 48 hours, resent on request.

Until the address is verified the portal shows a banner, and actions that send e-mail to other
people or reach real money (inviting team members, transferring ownership, live mode) are
refused by `require_verified`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from backend.core.errors import NotFound, PermissionDenied
from backend.models import Membership, User, utcnow
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.identity import tokens
from backend.services.identity.emails import app_link, record_link_email

_LIFETIME_HOURS = int(tokens.LIFETIME[tokens.Purpose.EMAIL_VERIFICATION].total_seconds() // 3600)
RESEND = tokens.SendAllowance(min_interval=timedelta(seconds=60), per_hour=5)


class EmailNotVerified(PermissionDenied):
    code = "email_not_verified"


def send_link(db: Session, user: User, *, merchant_id: str | None = None) -> str:
    """Record the verification e-mail for the user's address; its OutboundEmail id."""
    token = tokens.issue(db, tokens.Purpose.EMAIL_VERIFICATION, user_id=user.id, email=user.email)
    message = record_link_email(
        db,
        to=user.email,
        subject="Confirm your e-mail address for PayPortal",
        paragraphs=[
            "Welcome to PayPortal. Confirm that this is your e-mail address to finish setting "
            "up your account.",
            f"The link works once and expires in {_LIFETIME_HOURS} hours.",
        ],
        action="Confirm my e-mail address",
        url=app_link("/verify-email", token=token),
        footer="If you did not create a PayPortal account, ignore this e-mail.",
        template="email_verification",
        merchant_id=merchant_id,
    )
    return message.id


def resend(db: Session, user_id: str, *, merchant_id: str | None = None) -> str | None:
    """Another link, unless the address is already verified (None) or asked for too often."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    if user.email_verified_at is not None:
        return None
    tokens.check_allowance(db, tokens.Purpose.EMAIL_VERIFICATION, user_id=user.id, allowance=RESEND)
    return send_link(db, user, merchant_id=merchant_id)


def verify(db: Session, token: object) -> User:
    """Use a verification link: the user, now verified."""
    row = tokens.consume(db, tokens.Purpose.EMAIL_VERIFICATION, token)
    user = db.get(User, row.user_id)
    if user is None or user.email != row.email:
        # The address changed since the link was sent: it proves nothing about the new one.
        raise NotFound(tokens.INVALID_LINK, param="token", code="invalid_link")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.add(user)
        merchant_id = db.exec(
            select(Membership.merchant_id)
            .where(Membership.user_id == user.id)
            .order_by(col(Membership.created_at))
        ).first()
        audit.record(
            db,
            action="user.email_verified",
            merchant_id=merchant_id,
            actor_type=ActorType.USER,
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
        )
    return user


def require_verified(db: Session, user_id: str) -> None:
    user = db.get(User, user_id)
    if user is None or user.email_verified_at is None:
        raise EmailNotVerified(
            "Confirm your e-mail address first: use the link we sent you, or send a new one "
            "from the banner at the top of the page."
        )
