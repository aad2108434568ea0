"""Merchants, the people who work for them, their sessions and their API keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import MerchantStatus, Role
from backend.models.types import UTCDateTime, utcnow


class Merchant(SQLModel, table=True):
    __tablename__ = "merchants"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    support_email: str = Field(max_length=320)
    country: str = Field(default="US", max_length=2)
    default_currency: str = Field(default="USD", max_length=3)
    locale: str = Field(default="en_US", max_length=16)
    timezone: str = Field(default="UTC", max_length=64)
    status: str = Field(default=MerchantStatus.ACTIVE, max_length=20)
    fee_tier_id: str = Field(default="starter", foreign_key="fee_tiers.id", max_length=40)
    brand_color: str = Field(default="#4f46e5", max_length=7)
    logo_path: str | None = Field(default=None, max_length=300)
    # A full refund hands the platform fee back unless the merchant's terms say otherwise.
    refund_returns_platform_fee: bool = Field(
        default=True, sa_column_kwargs={"server_default": sa.true()}
    )
    # Risk scores run 0-100: at or above review_score a payment is flagged for review, at or
    # above block_score it never reaches a gateway.
    risk_review_score: int = Field(default=50, sa_column_kwargs={"server_default": "50"})
    risk_block_score: int = Field(default=80, sa_column_kwargs={"server_default": "80"})
    # Both in minor units of default_currency (see backend/services/permissions.py): the most a
    # support member may refund at once, and the refund size above which a fresh 2FA code is asked.
    support_refund_limit: int = Field(
        default=10_000, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "10000"}
    )
    step_up_refund_threshold: int = Field(
        default=50_000, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "50000"}
    )
    # Business days (UTC, weekends skipped) before a captured payment's funds become available.
    payout_delay_days: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=40)
    email: str = Field(max_length=320, unique=True)
    full_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    phone: str | None = Field(default=None, max_length=32)
    phone_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_secret_encrypted: str | None = Field(default=None, max_length=300)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last accepted TOTP time step: a code for this step or an earlier one is a replay.
    totp_last_step: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("merchant_id", "user_id", name="uq_membership"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    role: str = Field(default=Role.OWNER, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its digest is stored."""

    __tablename__ = "user_sessions"

    id: str = Field(primary_key=True, max_length=40)
    token_digest: str = Field(max_length=64, unique=True)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When this browser last proved a second factor (backend/services/step_up.py).
    step_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A merchant's API key. Keys are high-entropy, so a keyed SHA-256 digest is stored.

    A test-mode secret is also kept encrypted, so its owner can reveal it again (it only
    reaches the sandbox); a live secret is a digest only, shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_merchant_mode", "merchant_id", "livemode"),)

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    name: str = Field(default="Default", max_length=100)
    # The first characters of the key (e.g. "sk_test_4f9a") so people can tell keys apart.
    display_prefix: str = Field(max_length=24)
    last4: str = Field(max_length=4)
    digest: str = Field(max_length=64, unique=True)
    secret_encrypted: str | None = Field(default=None, max_length=300)
    created_by_user_id: str | None = Field(default=None, foreign_key="users.id", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A rolled key keeps working until expires_at; a revoked key stops at once.
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
