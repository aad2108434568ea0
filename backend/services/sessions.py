"""Signing in and the server-side sessions behind the portal's cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from backend.config import get_settings
from backend.ids import new_id
from backend.models import Membership, Merchant, User, UserSession, utcnow
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.accounts import normalise_email
from backend.services.errors import AuthenticationFailed, RateLimited, ValidationFailed
from backend.services.security import (
    burn_password_check,
    hash_password,
    random_token,
    token_digest,
    verify_password,
)

_PURPOSE = "session"
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Refresh last_seen_at at most this often: a page load should not always write.
_TOUCH_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionContext:
    session_id: str
    user_id: str
    email: str
    merchant_id: str
    merchant_name: str
    role: str
    livemode: bool


class SecondFactorRequired(AuthenticationFailed):
    """The password was right, but this account needs its second factor before a session:
    sign in through backend.services.two_factor.begin_login instead."""

    code = "second_factor_required"


def check_credentials(db: Session, *, email: str, password: str) -> tuple[User, Membership]:
    """The user and their membership for a correct e-mail and password; never says which was
    wrong. Failures count towards a lockout, and that count is committed before the error is
    raised: the caller's unit of work rolls back on the error, and the count must survive it."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        burn_password_check(password)
        raise AuthenticationFailed("Incorrect e-mail or password") from None
    user = db.exec(select(User).where(User.email == email)).first()
    now = utcnow()
    if user is None:
        burn_password_check(password)
        raise AuthenticationFailed("Incorrect e-mail or password")
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise RateLimited(
            f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            retry_after=int((user.locked_until - now).total_seconds()) + 1,
        )
    ok, needs_rehash = verify_password(password, user.password_hash)
    if not ok:
        user.failed_login_count += 1
        if user.failed_login_count >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_login_count = 0
        db.add(user)
        db.commit()
        raise AuthenticationFailed("Incorrect e-mail or password")

    membership = db.exec(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.created_at)
    ).first()
    if membership is None:
        raise AuthenticationFailed("This account is not a member of any merchant")
    if needs_rehash:
        user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    db.add(user)
    return user, membership


def start_session(
    db: Session,
    user: User,
    membership: Membership,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
    second_factor: str | None = None,
) -> tuple[str, UserSession]:
    """A new session for a user who has proved who they are; (cookie token, session row)."""
    settings = get_settings()
    now = utcnow()
    token = random_token(40)
    row = UserSession(
        id=new_id("ses"),
        token_digest=token_digest(token, purpose=_PURPOSE),
        user_id=user.id,
        merchant_id=membership.merchant_id,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:300] or None,
        expires_at=now + timedelta(hours=settings.session_max_hours),
        # Proving a second factor at sign-in counts as a fresh step-up for this browser.
        step_up_at=now if second_factor else None,
    )
    db.add(row)
    audit.record(
        db,
        action="user.signed_in",
        merchant_id=membership.merchant_id,
        actor_type=ActorType.USER,
        actor_id=user.id,
        object_type="session",
        object_id=row.id,
        ip_address=ip_address,
        details={"secondFactor": second_factor} if second_factor else None,
    )
    return token, row


def sign_in(
    db: Session,
    *,
    email: str,
    password: str,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, UserSession]:
    """(cookie token, session row) for a correct e-mail and password of an account without
    two-factor authentication; SecondFactorRequired for one with it."""
    user, membership = check_credentials(db, email=email, password=password)
    if user.totp_enabled_at is not None:
        raise SecondFactorRequired("Enter the code from your authenticator app to sign in")
    return start_session(db, user, membership, ip_address=ip_address, user_agent=user_agent)


def set_livemode(db: Session, session_id: str, livemode: bool) -> None:
    """Switch this browser session between test and live data (kept across reloads)."""
    session = db.exec(
        select(UserSession).where(UserSession.id == session_id).with_for_update()
    ).first()
    if session is None or session.revoked_at is not None:
        raise AuthenticationFailed("Your session has ended: sign in again")
    if session.livemode == livemode:
        return
    session.livemode = livemode
    db.add(session)
    audit.record(
        db,
        action="session.mode_changed",
        merchant_id=session.merchant_id,
        livemode=livemode,
        actor_type=ActorType.USER,
        actor_id=session.user_id,
        object_type="session",
        object_id=session.id,
        details={"livemode": livemode},
    )


def resolve(db: Session, token: str | None) -> SessionContext | None:
    """The live session for a cookie token, or None if it is unknown, revoked, idle or expired."""
    if not token or len(token) > 200:
        return None
    row = db.exec(
        select(UserSession, User.email, Merchant.name, Membership.role)
        .join(User, User.id == UserSession.user_id)
        .join(Merchant, Merchant.id == UserSession.merchant_id)
        .join(
            Membership,
            (Membership.user_id == UserSession.user_id)
            & (Membership.merchant_id == UserSession.merchant_id),
        )
        .where(UserSession.token_digest == token_digest(token, purpose=_PURPOSE))
    ).first()
    if row is None:
        return None
    session, email, merchant_name, role = row
    now = utcnow()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if session.revoked_at or session.expires_at <= now or now - session.last_seen_at > idle:
        return None
    if now - session.last_seen_at > _TOUCH_RESOLUTION:
        session.last_seen_at = now
        db.add(session)
    return SessionContext(
        session_id=session.id,
        user_id=session.user_id,
        email=email,
        merchant_id=session.merchant_id,
        merchant_name=merchant_name,
        role=role,
        livemode=session.livemode,
    )


def sign_out(db: Session, token: str | None) -> None:
    if not token:
        return
    session = db.exec(
        select(UserSession).where(UserSession.token_digest == token_digest(token, purpose=_PURPOSE))
    ).first()
    if session and session.revoked_at is None:
        session.revoked_at = utcnow()
        db.add(session)
        audit.record(
            db,
            action="user.signed_out",
            merchant_id=session.merchant_id,
            actor_type=ActorType.USER,
            actor_id=session.user_id,
            object_type="session",
            object_id=session.id,
        )
