"""Second factors: recovery codes, sign-ins waiting for their second factor, SMS codes.

The TOTP secret itself lives on the user (users.totp_secret_encrypted, totp_enabled_at,
totp_last_step), as does the phone number the SMS factor sends to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class RecoveryCode(SQLModel, table=True):
    """A single-use code for when no other factor is at hand; only its keyed digest is kept."""

    __tablename__ = "recovery_codes"

    id: str = Field(primary_key=True, max_length=40)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    digest: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PendingLogin(SQLModel, table=True):
    """A correct password from a user with 2FA: a short-lived, single-use ticket to the second
    step. The browser holds the random token; only its digest is stored. No session exists
    until the second factor is proved."""

    __tablename__ = "pending_logins"

    id: str = Field(primary_key=True, max_length=40)
    token_digest: str = Field(max_length=64, unique=True)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    ip_address: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SmsVerification(SQLModel, table=True):
    """One SMS code sent to a phone for a purpose (enrol the phone, sign in, step up).

    With Twilio Verify, Twilio generates and checks the code (provider_sid is its Verification
    sid); the sandbox twin keeps a keyed digest of its own code here instead."""

    __tablename__ = "sms_verifications"
    __table_args__ = (Index("ix_sms_verifications_user_created", "user_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    user_id: str = Field(foreign_key="users.id", max_length=40)
    phone: str = Field(max_length=32)
    purpose: str = Field(max_length=16)  # phone, sign_in, step_up
    provider: str = Field(max_length=16)  # twilio or sandbox
    provider_sid: str | None = Field(default=None, max_length=64)
    code_digest: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboundSms(SQLModel, table=True):
    """A text message the sandbox twin "sent" (no Twilio keys): the demo shows it at /dev/sms,
    so the code can be read offline. Never written when Twilio carries the message."""

    __tablename__ = "outbound_sms"
    __table_args__ = (Index("ix_outbound_sms_created", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    to_phone: str = Field(max_length=32)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
