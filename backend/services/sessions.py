"""Signing in and the server-side sessions behind the portal's cookie.

Sign-in is `authenticate` (the password, the per-account lockout and the per-address throttle)
followed by `start_session` (the row the cookie points at); `sign_in` does both for the
merchant the person joined first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.config import get_settings
from backend.ids import new_id
from backend.models import Membership, Merchant, User, UserSession, utcnow
from backend.models.enums import ActorType
from backend.services import audit, email_verification, login_throttle
from backend.services.accounts import normalise_email
from backend.services.errors import (
    AuthenticationFailed,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from backend.services.security import (
    burn_password_check,
    hash_password,
    random_token,
    token_digest,
    verify_password,
)

_PURPOSE = "session"
# The portal's cookie holding the session token (the CSV export route reads it too).
COOKIE_NAME = "pp_session"
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Refresh last_seen_at at most this often: a page load should not always write.
_TOUCH_RESOLUTION = timedelta(seconds=60)
WRONG_CREDENTIALS = "Incorrect e-mail or password"


@dataclass(frozen=True)
class SessionContext:
    session_id: str
    user_id: str
    email: str
    merchant_id: str
    merchant_name: str
    role: str
    livemode: bool
    email_verified: bool


def _minutes(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60) + 1)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


class SecondFactorRequired(AuthenticationFailed):
    """The password was right, but this account proves a second factor before any session."""

    code = "second_factor_required"


def first_membership(db: Session, user_id: str) -> Membership | None:
    return db.exec(
        select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)
    ).first()


def _fail(
    db: Session, user: User | None, ip_address: str | None, now: datetime, reason: str
) -> AuthenticationFailed:
    """Count a failed attempt and commit it: the caller rolls back when the error propagates,
    and a lockout that rolls back with it would never lock anything."""
    login_throttle.record_failure(db, ip_address, now)
    if user is not None:
        membership = first_membership(db, user.id)
        audit.record(
            db,
            action="user.sign_in_failed",
            merchant_id=membership.merchant_id if membership else None,
            actor_type=ActorType.USER,
            actor_id=user.id,
            object_type="user",
            object_id=user.id,
            ip_address=ip_address,
            details={"reason": reason},
        )
    db.commit()
    return AuthenticationFailed(WRONG_CREDENTIALS)


def authenticate(
    db: Session, *, email: object, password: object, ip_address: str | None = None
) -> User:
    """The user with this e-mail and password; never says which of the two was wrong.

    Refused with RateLimited (and the time to wait) while the address is throttled or the
    account locked. A correct password hashed with older parameters is re-hashed.
    """
    now = utcnow()
    login_throttle.check(db, ip_address, now)
    password = password if isinstance(password, str) else ""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        burn_password_check(password)
        raise _fail(db, None, ip_address, now, "malformed e-mail") from None
    user = db.exec(select(User).where(User.email == email)).first()
    if user is None:
        burn_password_check(password)
        raise _fail(db, None, ip_address, now, "unknown e-mail")
    if user.locked_until and user.locked_until > now:
        raise RateLimited(
            f"Too many failed attempts. Try again in {_minutes(user.locked_until - now)}.",
            retry_after=int((user.locked_until - now).total_seconds()) + 1,
            code="account_locked",
        )
    ok, needs_rehash = verify_password(password, user.password_hash)
    if not ok:
        user.failed_login_count += 1
        if user.failed_login_count >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_login_count = 0
        db.add(user)
        raise _fail(db, user, ip_address, now, "wrong password")
    if needs_rehash:
        user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    db.add(user)
    return user


def start_session(
    db: Session,
    *,
    user_id: str,
    merchant_id: str,
    ip_address: str | None = None,
    user_agent: str | None = None,
    action: str = "user.signed_in",
    second_factor: str | None = None,
) -> tuple[str, UserSession]:
    """(cookie token, session row) for a member of merchant_id who has proved who they are;
    writes the audit row. second_factor names the factor proved at sign-in, if any."""
    now = utcnow()
    token = random_token(40)
    row = UserSession(
        id=new_id("ses"),
        token_digest=token_digest(token, purpose=_PURPOSE),
        user_id=user_id,
        merchant_id=merchant_id,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:300] or None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=get_settings().session_max_hours),
        # Proving a second factor at sign-in counts as a fresh step-up for this browser.
        step_up_at=now if second_factor else None,
    )
    db.add(row)
    audit.record(
        db,
        action=action,
        merchant_id=merchant_id,
        actor_type=ActorType.USER,
        actor_id=user_id,
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
    two-factor authentication (SecondFactorRequired for one with it: sign in through
    backend.services.two_factor.begin_login); never says which of the two was wrong."""
    user = authenticate(db, email=email, password=password, ip_address=ip_address)
    if user.totp_enabled_at is not None:
        raise SecondFactorRequired("Enter the code from your authenticator app to sign in")
    membership = first_membership(db, user.id)
    if membership is None:
        raise AuthenticationFailed("This account is not a member of any merchant")
    return start_session(
        db,
        user_id=user.id,
        merchant_id=membership.merchant_id,
        ip_address=ip_address,
        user_agent=user_agent,
    )


def resolve(db: Session, token: str | None) -> SessionContext | None:
    """The live session for a cookie token, or None if it is unknown, revoked, idle or expired."""
    if not token or len(token) > 200:
        return None
    row = db.exec(
        select(UserSession, User.email, User.email_verified_at, Merchant.name, Membership.role)
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
    session, email, verified_at, merchant_name, role = row
    now = utcnow()
    if not is_live(session, now):
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
        email_verified=verified_at is not None,
    )


def is_live(session: UserSession, now: datetime | None = None) -> bool:
    now = now or utcnow()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return (
        session.revoked_at is None
        and session.expires_at > now
        and now - session.last_seen_at <= idle
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


def active_sessions(db: Session, user_id: str) -> list[UserSession]:
    """The user's signed-in browsers, most recently used first."""
    now = utcnow()
    rows = db.exec(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            col(UserSession.revoked_at).is_(None),
            UserSession.expires_at > now,
        )
        .order_by(col(UserSession.last_seen_at).desc())
    ).all()
    return [row for row in rows if is_live(row, now)]


def revoke_session(db: Session, ctx: SessionContext, session_id: str) -> UserSession:
    """Sign out one of the caller's own sessions (404 for anyone else's)."""
    session = db.get(UserSession, session_id) if isinstance(session_id, str) else None
    if session is None or session.user_id != ctx.user_id or session.revoked_at is not None:
        raise NotFound("That session is not signed in", param="session_id")
    session.revoked_at = utcnow()
    db.add(session)
    audit.record(
        db,
        action="session.revoked",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="session",
        object_id=session.id,
    )
    return session


def revoke_all(
    db: Session,
    user_id: str,
    *,
    except_session_id: str | None = None,
    merchant_id: str | None = None,
) -> int:
    """Revoke the user's open sessions (all, all but one, or those of one merchant); how many."""
    query = update(UserSession).where(
        col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None)
    )
    if except_session_id:
        query = query.where(col(UserSession.id) != except_session_id)
    if merchant_id:
        query = query.where(col(UserSession.merchant_id) == merchant_id)
    return db.exec(query.values(revoked_at=utcnow())).rowcount


def sign_out_others(db: Session, ctx: SessionContext) -> int:
    """ "Sign out other sessions": every session of this person but the caller's own."""
    count = revoke_all(db, ctx.user_id, except_session_id=ctx.session_id)
    audit.record(
        db,
        action="user.signed_out_other_sessions",
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="user",
        object_id=ctx.user_id,
        details={"sessions": count},
    )
    return count


def set_livemode(db: Session, session_id: str, livemode: bool) -> None:
    """Switch this browser session between test and live data (kept across reloads)."""
    session = db.exec(
        select(UserSession).where(UserSession.id == session_id).with_for_update()
    ).first()
    if session is None or session.revoked_at is not None:
        raise AuthenticationFailed("Your session has ended: sign in again")
    if session.livemode == livemode:
        return
    if livemode:  # live money waits until the person has proved their address
        email_verification.require_verified(db, session.user_id)
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
