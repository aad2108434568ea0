"""Two-factor authentication: authenticator apps (TOTP), SMS codes and recovery codes.

TOTP (RFC 6238 through pyotp): 30-second steps, 6 digits, the secret Fernet-encrypted at rest.
Enrolment shows a QR code (segno, as an inline SVG) and the key as text; 2FA is on only once a
code from the app has been confirmed. A code is accepted for the step before, the current step
and the step after (clock drift), and never twice: users.totp_last_step keeps the last step
accepted, and any code for that step or an earlier one is refused as a replay.

2FA is on when the authenticator app is. A verified phone adds text messages as the
alternative factor (backend/services/sms.py); ten recovery codes, shown once and kept as keyed
digests, are the last resort, each good once.

Sign-in with 2FA: a correct password gives a pending sign-in (a random token, 5 minutes, once),
never a session. Only the second factor turns it into a session, and that proof also opens the
step-up window for that browser.

Wrong codes count per person (backend/services/throttle.py): after 10 within 15 minutes every
factor waits, so guessing gets nowhere.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from backend.core import crypto, throttle
from backend.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import random_token, token_digest
from backend.models import Membership, PendingLogin, RecoveryCode, User, utcnow
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.identity import sessions, sms, step_up

ISSUER = "PayPortal"
RECOVERY_CODE_COUNT = 10
PENDING_LOGIN_TTL = timedelta(minutes=5)
WRONG_CODES = "10/15 minutes"  # per person, all factors together
METHODS = ("totp", "sms", "recovery")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_PENDING_PURPOSE = "pending_login"
_RECOVERY_PURPOSE = "recovery_code"


# ---------------------------------------------------------------------------------------------
# Enrolment


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into the app by hand
    otpauth_uri: str
    qr_data_uri: str  # an SVG image of the URI, for <img src=...>


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def _user(db: Session, user_id: str, *, lock: bool = False) -> User:
    query = select(User).where(User.id == user_id)
    found = db.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise AuthenticationFailed("Your session has ended: sign in again")
    return found


def _merchant_of(db: Session, user_id: str) -> str | None:
    return db.exec(
        select(Membership.merchant_id)
        .where(Membership.user_id == user_id)
        .order_by(col(Membership.created_at))
    ).first()


def _audit(db: Session, user_id: str, action: str, **details: object) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=_merchant_of(db, user_id),
        actor_type=ActorType.USER,
        actor_id=user_id,
        object_type="user",
        object_id=user_id,
        details=dict(details) or None,
    )


def begin_enrolment(db: Session, user_id: str) -> Enrolment:
    """A new secret for the authenticator app, kept (encrypted) until it is confirmed."""
    user = _user(db, user_id, lock=True)
    if is_enabled(user):
        raise Conflict("Two-factor authentication is already on", code="two_factor_enabled")
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    user.totp_secret_encrypted = crypto.encrypt(secret)
    user.totp_last_step = None
    db.add(user)
    return enrolment_for(user.email, secret)


def enrolment_for(email: str, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrolment(secret, uri, qr)


def confirm_enrolment(
    db: Session, user_id: str, code: str, *, session_id: str | None = None
) -> list[str]:
    """Turn 2FA on with a first code from the app; the ten recovery codes, shown this once."""
    user = _user(db, user_id, lock=True)
    if is_enabled(user):
        raise Conflict("Two-factor authentication is already on", code="two_factor_enabled")
    if not user.totp_secret_encrypted:
        raise Conflict("Start the set-up again: no key is waiting", code="no_enrolment")
    throttle.ensure_room(WRONG_CODES, "2fa-wrong", user_id, message="Too many wrong codes.")
    try:
        _check_totp(user, code)
    except AuthenticationFailed:
        throttle.count(WRONG_CODES, "2fa-wrong", user_id)
        raise
    user.totp_enabled_at = user.updated_at = utcnow()
    db.add(user)
    codes = _replace_recovery_codes(db, user_id)
    if session_id:
        step_up.record(db, session_id)
    _audit(db, user_id, "user.two_factor_enabled")
    return codes


def disable(db: Session, user_id: str, *, session_id: str) -> None:
    """Turn 2FA off (a fresh code first): the secret, its replay guard and the codes go."""
    step_up.require_fresh(db, session_id)
    user = _user(db, user_id, lock=True)
    if not is_enabled(user):
        raise Conflict("Two-factor authentication is already off", code="two_factor_disabled")
    user.totp_secret_encrypted = user.totp_enabled_at = user.totp_last_step = None
    user.updated_at = utcnow()
    db.add(user)
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    _audit(db, user_id, "user.two_factor_disabled")


# ---------------------------------------------------------------------------------------------
# TOTP


def _normalise_code(code: object) -> str:
    return re.sub(r"[\s-]", "", code) if isinstance(code, str) else ""


def _check_totp(user: User, code: object) -> None:
    """Accept a code for the previous, current or next step that is newer than the last one
    accepted, and remember its step; AuthenticationFailed otherwise (nothing is changed)."""
    digits = _normalise_code(code)
    if not (digits.isdigit() and len(digits) == 6):
        raise AuthenticationFailed("Enter the 6-digit code from your app", param="code")
    if not user.totp_secret_encrypted:
        raise AuthenticationFailed("Two-factor authentication is not set up", param="code")
    totp = pyotp.TOTP(crypto.decrypt(user.totp_secret_encrypted))
    now_step = int(utcnow().timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                raise AuthenticationFailed(
                    "That code has already been used. Wait for the next one in your app.",
                    param="code",
                    code="code_reused",
                )
            user.totp_last_step = step
            return
    raise AuthenticationFailed("That code is not right. Check your app's clock.", param="code")


# ---------------------------------------------------------------------------------------------
# Recovery codes


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _recovery_digest(code: str) -> str:
    return token_digest(_normalise_code(code).lower(), purpose=_RECOVERY_PURPOSE)


def _replace_recovery_codes(db: Session, user_id: str) -> list[str]:
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.add(RecoveryCode(id=new_id("rc"), user_id=user_id, digest=_recovery_digest(code)))
    return codes


def regenerate_recovery_codes(db: Session, user_id: str, *, session_id: str) -> list[str]:
    """Ten new codes (a fresh code first); every earlier code stops working."""
    step_up.require_fresh(db, session_id)
    user = _user(db, user_id, lock=True)
    if not is_enabled(user):
        raise Conflict("Turn on two-factor authentication first", code="two_factor_disabled")
    codes = _replace_recovery_codes(db, user_id)
    _audit(db, user_id, "user.recovery_codes_regenerated")
    return codes


def recovery_codes_left(db: Session, user_id: str) -> int:
    return db.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))
    ).one()


def _use_recovery_code(db: Session, user_id: str, code: object) -> None:
    text = _normalise_code(code)
    if not 8 <= len(text) <= 12:
        raise AuthenticationFailed("Enter one of your recovery codes (xxxxx-xxxxx)", param="code")
    # One conditional UPDATE: of two requests racing with the same code, only one changes it.
    used = db.exec(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.digest) == _recovery_digest(text),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise AuthenticationFailed("That recovery code is not valid or has been used", param="code")


# ---------------------------------------------------------------------------------------------
# Proving a factor (sign-in and step-up)


def methods_for(user: User) -> list[str]:
    if not is_enabled(user):
        return []
    return ["totp", *(["sms"] if user.phone_verified_at else []), "recovery"]


def prove(db: Session, user_id: str, *, method: str, code: object, sms_purpose: str) -> User:
    """Check one factor for the user; AuthenticationFailed (counted) or RateLimited."""
    throttle.ensure_room(WRONG_CODES, "2fa-wrong", user_id, message="Too many wrong codes.")
    user = _user(db, user_id, lock=True)
    if method not in methods_for(user):
        raise ValidationFailed("Choose a way to confirm it is you", param="method")
    try:
        if method == "totp":
            _check_totp(user, code)
            db.add(user)
        elif method == "sms":
            sms.check_code(db, user_id, purpose=sms_purpose, code=_normalise_code(code))
        else:
            _use_recovery_code(db, user_id, code)
    except AuthenticationFailed:
        throttle.count(WRONG_CODES, "2fa-wrong", user_id)
        raise
    _audit(db, user_id, "user.second_factor_proved", method=method, purpose=sms_purpose)
    return user


def send_sms(db: Session, user_id: str, *, purpose: str) -> str:
    """Text a code to the user's verified phone; the masked number it went to."""
    user = _user(db, user_id)
    if "sms" not in methods_for(user) or not user.phone:
        raise ValidationFailed("Add and verify a phone number first", param="method")
    sms.send_code(db, user_id, phone=user.phone, purpose=purpose)
    return sms.mask(user.phone)


def step_up_with(db: Session, *, session_id: str, user_id: str, method: str, code: object) -> None:
    """Prove a factor now and open this browser session's step-up window."""
    prove(db, user_id, method=method, code=code, sms_purpose="step_up")
    step_up.record(db, session_id)


# ---------------------------------------------------------------------------------------------
# Sign-in


@dataclass(frozen=True)
class LoginStep:
    """What follows a correct password: a session at once, or a second-factor challenge."""

    session_token: str | None = None
    pending_token: str | None = None


@dataclass(frozen=True)
class Challenge:
    methods: list[str]
    phone_hint: str  # the masked number SMS codes go to, or ""


def begin_login(
    db: Session,
    *,
    email: str,
    password: str,
    ip_address: str | None = None,
    user_agent: str | None = None,
    device: str | None = None,
) -> LoginStep:
    """The next step after a correct password: a session, or the second factor first.
    device is the browser's pp_device cookie (backend.services.identity.devices)."""
    user = sessions.authenticate(
        db, email=email, password=password, ip_address=ip_address, device=device
    )
    membership = sessions.first_membership(db, user.id)
    if membership is None:
        raise AuthenticationFailed("This account is not a member of any merchant")
    if not is_enabled(user):
        token, _ = sessions.start_session(
            db,
            user_id=user.id,
            merchant_id=membership.merchant_id,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        return LoginStep(session_token=token)
    token = random_token(40)
    now = utcnow()
    db.add(
        PendingLogin(
            id=new_id("pl"),
            token_digest=token_digest(token, purpose=_PENDING_PURPOSE),
            user_id=user.id,
            merchant_id=membership.merchant_id,
            ip_address=ip_address,
            created_at=now,
            expires_at=now + PENDING_LOGIN_TTL,
        )
    )
    return LoginStep(pending_token=token)


def _pending(db: Session, token: str | None, *, lock: bool = False) -> PendingLogin:
    expired = AuthenticationFailed(
        "Your sign-in has expired. Enter your e-mail and password again.",
        code="sign_in_expired",
    )
    if not token or len(token) > 100:
        raise expired
    query = select(PendingLogin).where(
        PendingLogin.token_digest == token_digest(token, purpose=_PENDING_PURPOSE)
    )
    found = db.exec(query.with_for_update() if lock else query).first()
    if found is None or found.used_at is not None or found.expires_at <= utcnow():
        raise expired
    return found


def challenge(db: Session, pending_token: str | None) -> Challenge:
    pending = _pending(db, pending_token)
    user = _user(db, pending.user_id)
    return Challenge(methods_for(user), sms.mask(user.phone) if user.phone_verified_at else "")


def send_login_sms(db: Session, pending_token: str | None) -> str:
    pending = _pending(db, pending_token)
    return send_sms(db, pending.user_id, purpose="sign_in")


def complete_login(
    db: Session,
    pending_token: str | None,
    *,
    method: str,
    code: object,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """The session cookie token once the second factor is right; the pending sign-in is used."""
    pending = _pending(db, pending_token, lock=True)
    user = prove(db, pending.user_id, method=method, code=code, sms_purpose="sign_in")
    membership = db.exec(
        select(Membership).where(
            Membership.user_id == user.id, Membership.merchant_id == pending.merchant_id
        )
    ).first()
    if membership is None:
        raise AuthenticationFailed("This account is not a member of that merchant any more")
    pending.used_at = utcnow()
    db.add(pending)
    token, _ = sessions.start_session(
        db,
        user_id=user.id,
        merchant_id=membership.merchant_id,
        ip_address=ip_address,
        user_agent=user_agent,
        second_factor=method,
    )
    return token
