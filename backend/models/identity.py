"""Identity flows: single-use e-mailed links, team invitations, sign-in throttling by address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class ActionToken(SQLModel, table=True):
    """A single-use, expiring link sent by e-mail (verify an address, reset a password).

    Only a keyed digest of the token is stored, so a database leak does not hand out links.
    """

    __tablename__ = "action_tokens"
    __table_args__ = (
        Index("ix_action_tokens_user_purpose_created", "user_id", "purpose", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    purpose: str = Field(max_length=32)  # see backend.services.identity.tokens.Purpose
    user_id: str = Field(foreign_key="users.id", max_length=40)
    # The address the link went to: verifying it verifies this address, not a later one.
    email: str = Field(max_length=320)
    token_digest: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """An e-mailed invitation to join a merchant's team with a role; accepted at most once."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_merchant_created", "merchant_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)
    token_digest: str = Field(max_length=64, unique=True)
    invited_by_user_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_user_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins from one network address, shared by every worker through the database."""

    __tablename__ = "login_throttles"

    key: str = Field(primary_key=True, max_length=100)  # e.g. "ip:203.0.113.7"
    failures: int = 0
    last_failure_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
