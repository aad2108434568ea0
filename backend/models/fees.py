"""Platform fee tiers and per-merchant overrides.

Percentages are stored in hundredths of a basis point ("pips"): 3.0% is 30_000, 2.9% is 29_000,
so any rate down to 0.0001% is exact in an integer. Fixed fees are in the minor unit of
`fixed_fee_currency`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class FeeTier(SQLModel, table=True):
    __tablename__ = "fee_tiers"

    id: str = Field(primary_key=True, max_length=40)  # "starter", "professional", ...
    name: str = Field(max_length=100)
    level: int = Field(unique=True)
    percent_pips: int = Field(ge=0, le=1_000_000)
    fixed_fee: int = Field(default=0, ge=0, sa_type=BigInteger)
    fixed_fee_currency: str = Field(default="USD", max_length=3)
    description: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeeOverride(SQLModel, table=True):
    """A merchant's negotiated price; a null field falls back to the merchant's tier."""

    __tablename__ = "fee_overrides"

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", unique=True, max_length=40)
    percent_pips: int | None = Field(default=None, ge=0, le=1_000_000)
    fixed_fee: int | None = Field(default=None, ge=0, sa_type=BigInteger)
    fixed_fee_currency: str | None = Field(default=None, max_length=3)
    reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
