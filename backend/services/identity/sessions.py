"""Signing in and the server-side sessions behind the portal's cookie.

Sign-in is `authenticate` (the password, the per-address throttle and the per e-mail and
address pair throttle)
followed by `start_session` (the row the cookie points at); `sign_in` does both for the
merchant the person joined first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.core import throttle
from backend.core.config import get_settings
from backend.core.errors import (
    AuthenticationFailed,
    NotFound,
    ValidationFailed,
)
from backend.core.ids import new_id
from backend.core.security import (
    burn_password_check,
    hash_password,
    random_token,
    token_digest,
    verify_password,
)
from backend.models import Membership, Merchant, User, UserSession, utcnow
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.identity import devices, email_verification, login_throttle
from backend.services.identity.accounts import normalise_email

_PURPOSE = "session"
_GRANT_PURPOSE = "session-grant"
# The portal's HttpOnly cookie holding the session token, set only by POST /api/session
# (backend/api/routes/session_cookie.py); the download routes read it too.
COOKIE_NAME = "pp_session"
# How long the page has to trade a sign-in's one-time grant for the cookie.
GRANT_LIFETIME = timedelta(seconds=60)
INVALID_GRANT = "This sign-in has expired or was already used. Sign in again."
# Failed sign-ins allowed per (e-mail, address) or (e-mail, known device) pair.
MAX_FAILED_LOGINS = 5
SIGN_IN_LIMIT = f"{MAX_FAILED_LOGINS}/15 minutes"
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


class SecondFactorRequired(AuthenticationFailed):
    """The password was right, but this account proves a second factor before any session."""

    code = "second_factor_required"


def first_membership(db: Session, user_id: str) -> Membership | None:
    return db.exec(
        select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)
    ).first()


def _fail(
    db: Session,
    user: User | None,
    ip_address: str | None,
    now: datetime,
    reason: str,
    *,
    pair: tuple[str, ...],
    count_address: bool = True,
) -> AuthenticationFailed:
    """Count a failed attempt and commit it: the caller rolls back when the error propagates,
    and a count that rolled back with it would never slow anything."""
    throttle.count(SIGN_IN_LIMIT, *pair)
    if count_address:
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


def _pair(email: str, ip_address: str | None, device_id: str | None) -> tuple[str, ...]:
    """The throttle's key: this e-mail (known or not, so both answer alike) from this known
    device, else from this network address."""
    where = f"device:{device_id}" if device_id else login_throttle.throttle_key(ip_address)
    return ("sign-in", email[:320], where or "ip:unknown")


def authenticate(
    db: Session,
    *,
    email: object,
    password: object,
    ip_address: str | None = None,
    device: str | None = None,
) -> User:
    """The user with this e-mail and password; never says which of the two was wrong, and an
    unknown e-mail takes as long (a dummy hash is checked) and is throttled alike.

    Refused with RateLimited (and the time to wait) after SIGN_IN_LIMIT failures for this
    e-mail from this address, or while the address is throttled (login_throttle). From a known
    device of the account (`device`, the pp_device cookie) failures count against the device
    instead, so nobody else's guesses lock the owner out. A correct password hashed with older
    parameters is re-hashed.
    """
    now = utcnow()
    password = password if isinstance(password, str) else ""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        login_throttle.check(db, ip_address, now)
        burn_password_check(password)
        pair = _pair(str(email).lower() if isinstance(email, str) else "", ip_address, None)
        raise _fail(db, None, ip_address, now, "malformed e-mail", pair=pair) from None
    user = db.exec(select(User).where(User.email == email)).first()
    device_id = devices.known_device(device, user.id) if user is not None else None
    pair = _pair(email, ip_address, device_id)
    throttle.ensure_room(
        SIGN_IN_LIMIT, *pair, message="Too many failed sign-ins to this account from here."
    )
    if device_id is None:
        login_throttle.check(db, ip_address, now)
    if user is None:
        burn_password_check(password)
        raise _fail(db, None, ip_address, now, "unknown e-mail", pair=pair)
    ok, needs_rehash = verify_password(password, user.password_hash)
    if not ok:
        raise _fail(
            db, user, ip_address, now, "wrong password", pair=pair, count_address=not device_id
        )
    if needs_rehash:
        user.password_hash = hash_password(password)
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
    backend.services.identity.two_factor.begin_login); never says which of the two was wrong."""
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


def issue_grant(db: Session, token: str) -> str:
    """Swap a new session's token for a one-time grant, good for GRANT_LIFETIME.

    Services hand the state a session token; the state must not give it to the page, where a
    script could read it. The page posts the grant to /api/session instead, which redeems it
    and sets the token in an HttpOnly cookie. Only the grant's digest is stored (in the
    session row, under its own key, so the grant is never a session token itself); the
    original token stops working, and the row expires with the grant unless redeemed.
    """
    row = db.exec(
        select(UserSession).where(UserSession.token_digest == token_digest(token, purpose=_PURPOSE))
    ).first()
    if row is None or row.revoked_at is not None:
        raise AuthenticationFailed("Your session has ended: sign in again")
    grant = random_token(40)
    row.token_digest = token_digest(grant, purpose=_GRANT_PURPOSE)
    row.expires_at = min(row.expires_at, utcnow() + GRANT_LIFETIME)
    db.add(row)
    return grant


def redeem_grant(db: Session, grant: object) -> tuple[str, UserSession]:
    """(cookie token, session row) for a grant from issue_grant, once and within its lifetime;
    ValidationFailed(invalid_grant) for anything else."""
    refused = ValidationFailed(INVALID_GRANT, param="grant", code="invalid_grant")
    if not isinstance(grant, str) or not grant.isascii() or not grant.isalnum() or len(grant) > 200:
        raise refused
    now = utcnow()
    digest = token_digest(grant, purpose=_GRANT_PURPOSE)
    row = db.exec(select(UserSession).where(UserSession.token_digest == digest)).first()
    if row is None or not is_live(row, now):
        raise refused
    token = random_token(40)
    expires_at = row.created_at + timedelta(hours=get_settings().session_max_hours)
    claimed = db.exec(  # the same grant posted twice at once: only one UPDATE matches
        update(UserSession)
        .where(col(UserSession.id) == row.id, col(UserSession.token_digest) == digest)
        .values(
            token_digest=token_digest(token, purpose=_PURPOSE),
            expires_at=expires_at,
            last_seen_at=now,
        )
    )
    if claimed.rowcount != 1:
        raise refused
    db.refresh(row)
    return token, row


def safe_next(target: object) -> str:
    """Only same-site paths may follow sign-in (no open redirect to another host)."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and len(target) <= 2000
    ):
        return target
    return "/dashboard"


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
