"""Text-message codes: verifying a phone number, and the SMS factor for sign-in and step-up.

A code is good for 10 minutes and once. Sends are limited per person (a minimum gap, a few per
quarter hour) and per number (a few per hour), so nobody can bomb a phone or run up a bill;
wrong codes count against the person, so guessing stops long before it could succeed.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, col, select

from backend.core import throttle
from backend.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.integrations import sms as provider
from backend.models import OutboundSms, SmsVerification, User, utcnow
from backend.models.enums import ActorType
from backend.services import audit

CODE_TTL = timedelta(minutes=10)
PURPOSES = ("phone", "sign_in", "step_up")
SEND_GAP = "1/30 seconds"  # per person and purpose
SENDS_PER_USER = "5/15 minutes"
SENDS_PER_PHONE = "8/hour"
WRONG_CODES = "5/15 minutes"  # per person and purpose
_E164 = re.compile(r"\+[1-9]\d{7,14}")


def normalise_phone(value: object) -> str:
    """An E.164 number (+14155550123) from what a person typed (spaces, dashes, brackets)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("Enter a mobile number", param="phone")
    text = re.sub(r"[\s().-]", "", value.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _E164.fullmatch(text):
        raise ValidationFailed(
            "Enter the number with its country code, e.g. +1 415 555 0123", param="phone"
        )
    return text


def mask(phone: str | None) -> str:
    """+1 ••• ••• 0123: enough to recognise one's own number, not to learn someone else's."""
    return f"••• ••• {phone[-4:]}" if phone else ""


def send_code(db: Session, user_id: str, *, phone: str, purpose: str) -> SmsVerification:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    throttle.hit(SEND_GAP, "sms-gap", user_id, purpose, message="A code was just sent.")
    throttle.hit(SENDS_PER_USER, "sms-user", user_id, message="Too many codes requested.")
    throttle.hit(SENDS_PER_PHONE, "sms-phone", phone, message="Too many codes for this number.")
    now = utcnow()
    row = SmsVerification(
        id=new_id("smv"),
        user_id=user_id,
        phone=phone,
        purpose=purpose,
        provider=provider.provider(),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    started = provider.start(db, phone=phone, verification_id=row.id)
    row.provider, row.provider_sid, row.code_digest = (
        started.provider,
        started.provider_sid,
        started.code_digest,
    )
    db.add(row)
    return row


def check_code(db: Session, user_id: str, *, purpose: str, code: str) -> SmsVerification:
    """The verification the code approves (now used up), or AuthenticationFailed."""
    code = re.sub(r"\s", "", code or "")
    message = "Too many wrong codes."
    throttle.ensure_room(WRONG_CODES, "sms-wrong", user_id, purpose, message=message)
    row = db.exec(
        select(SmsVerification)
        .where(
            SmsVerification.user_id == user_id,
            SmsVerification.purpose == purpose,
            col(SmsVerification.approved_at).is_(None),
        )
        .order_by(col(SmsVerification.created_at).desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None or row.expires_at <= utcnow():
        raise AuthenticationFailed("No code is waiting: send a new one.", param="code")
    ok = (
        code.isdigit()
        and 4 <= len(code) <= 10
        and provider.check(
            provider_name=row.provider,
            phone=row.phone,
            verification_id=row.id,
            digest=row.code_digest,
            code=code,
        )
    )
    if not ok:
        throttle.count(WRONG_CODES, "sms-wrong", user_id, purpose)
        raise AuthenticationFailed("That code is not right. Check the latest text.", param="code")
    row.approved_at = utcnow()
    db.add(row)
    return row


def start_phone_enrolment(db: Session, user_id: str, phone: object) -> SmsVerification:
    number = normalise_phone(phone)
    user = db.get(User, user_id)
    if user is not None and user.phone == number and user.phone_verified_at:
        raise Conflict("This number is already verified on your account", param="phone")
    return send_code(db, user_id, phone=number, purpose="phone")


def confirm_phone(db: Session, user_id: str, code: str, *, merchant_id: str | None) -> User:
    verification = check_code(db, user_id, purpose="phone", code=code)
    user = db.exec(select(User).where(User.id == user_id).with_for_update()).one()
    user.phone, user.phone_verified_at, user.updated_at = verification.phone, utcnow(), utcnow()
    db.add(user)
    audit.record(
        db,
        action="user.phone_verified",
        merchant_id=merchant_id,
        actor_type=ActorType.USER,
        actor_id=user_id,
        object_type="user",
        object_id=user_id,
        details={"phone": mask(user.phone)},
    )
    return user


def remove_phone(db: Session, user_id: str, *, merchant_id: str | None) -> None:
    user = db.exec(select(User).where(User.id == user_id).with_for_update()).one()
    if user.phone is None:
        return
    user.phone = user.phone_verified_at = None
    user.updated_at = utcnow()
    db.add(user)
    audit.record(
        db,
        action="user.phone_removed",
        merchant_id=merchant_id,
        actor_type=ActorType.USER,
        actor_id=user_id,
        object_type="user",
        object_id=user_id,
    )


def sandbox_outbox(db: Session, limit: int = 50) -> list[OutboundSms]:
    """The newest texts the sandbox twin "sent" (the demo's /dev/sms)."""
    query = select(OutboundSms).order_by(col(OutboundSms.created_at).desc()).limit(limit)
    return list(db.exec(query).all())
