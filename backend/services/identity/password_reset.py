"""Forgotten passwords: an e-mailed single-use link valid for an hour.

Asking says the same whether or not an account has that address, so the form does not reveal
who has an account. Setting the new password signs out every session
of that person, lifts a sign-in lockout and tells them by e-mail.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from backend.core.errors import RateLimited, ValidationFailed
from backend.core.security import hash_password
from backend.models import Membership, User, utcnow
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.identity import sessions, tokens
from backend.services.identity.accounts import check_password_strength, normalise_email
from backend.services.identity.emails import app_link, record_link_email, record_notice_email

ALLOWANCE = tokens.SendAllowance(min_interval=timedelta(seconds=60), per_hour=3)
SENT_MESSAGE = (
    "If an account uses that address, we have sent it a link to choose a new password. "
    "The link works once, for one hour. Check your inbox and spam folder."
)


def _merchant_of(db: Session, user_id: str) -> str | None:
    return db.exec(
        select(Membership.merchant_id)
        .where(Membership.user_id == user_id)
        .order_by(col(Membership.created_at))
    ).first()


def request_reset(db: Session, email: object, *, ip_address: str | None = None) -> str | None:
    """The id of the reset e-mail recorded, or None; the caller shows SENT_MESSAGE either way.

    A malformed address is the only error (the person can fix a typo); asking too often for one
    account silently sends nothing more, since saying so would reveal the account exists.
    """
    address = normalise_email(email)
    user = db.exec(select(User).where(User.email == address)).first()
    if user is None:
        return None
    try:
        tokens.check_allowance(
            db, tokens.Purpose.PASSWORD_RESET, user_id=user.id, allowance=ALLOWANCE
        )
    except RateLimited:
        return None
    token = tokens.issue(db, tokens.Purpose.PASSWORD_RESET, user_id=user.id, email=user.email)
    merchant_id = _merchant_of(db, user.id)
    audit.record(
        db,
        action="user.password_reset_requested",
        merchant_id=merchant_id,
        actor_type=ActorType.USER,
        actor_id=user.id,
        object_type="user",
        object_id=user.id,
        ip_address=ip_address,
    )
    message = record_link_email(
        db,
        to=user.email,
        subject="Reset your PayPortal password",
        paragraphs=[
            "Someone, hopefully you, asked to reset the password of your PayPortal account.",
            "The link works once and expires in one hour. Choosing a new password signs you "
            "out everywhere else.",
        ],
        action="Choose a new password",
        url=app_link("/reset-password", token=token),
        footer="If you did not ask for this, ignore this e-mail: your password stays as it is.",
        template="password_reset",
        merchant_id=merchant_id,
    )
    return message.id


def check_link(db: Session, token: object) -> str:
    """The address a still-valid reset link belongs to (the page shows it above the form)."""
    return tokens.peek(db, tokens.Purpose.PASSWORD_RESET, token).email


def reset_password(
    db: Session, token: object, new_password: object, *, ip_address: str | None = None
) -> tuple[User, str]:
    """Set the new password through a reset link: (user, id of the confirmation e-mail)."""
    row = tokens.peek(db, tokens.Purpose.PASSWORD_RESET, token)
    user = db.get(User, row.user_id)
    if user is None or user.email != row.email:
        raise ValidationFailed(tokens.INVALID_LINK, param="token", code="invalid_link")
    password = check_password_strength(new_password, email=user.email)
    tokens.consume(db, tokens.Purpose.PASSWORD_RESET, token)
    now = utcnow()
    user.password_hash = hash_password(password)
    # The link reached this mailbox: that proves the address as well as a verification link.
    user.email_verified_at = user.email_verified_at or now
    user.updated_at = now
    db.add(user)
    revoked = sessions.revoke_all(db, user.id)
    merchant_id = _merchant_of(db, user.id)
    audit.record(
        db,
        action="user.password_reset",
        merchant_id=merchant_id,
        actor_type=ActorType.USER,
        actor_id=user.id,
        object_type="user",
        object_id=user.id,
        ip_address=ip_address,
        details={"sessions_signed_out": revoked},
    )
    notice = record_notice_email(
        db,
        to=user.email,
        subject="Your PayPortal password was changed",
        paragraphs=[
            "The password of your PayPortal account was just changed through a reset link, "
            "and every signed-in session was signed out.",
            "If this was not you, reset your password again at once and contact support.",
        ],
        template="password_changed",
        merchant_id=merchant_id,
    )
    return user, notice.id
