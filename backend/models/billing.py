"""Billing's catalogue and its time: products, their prices, and test clocks.

Amounts are integers in the minor unit of the row's currency. A price is immutable once created
(amount, currency, type, interval), as Stripe's are: only `active`, `nickname` and metadata
change; a new amount is a new price. Products and prices are archived (`active` false), never
deleted, so what was sold keeps pointing at what it was sold at.

A test clock is a frozen "now" for the test-mode objects created on it (Stripe's test clocks):
the billing engine reads its time instead of the real one, and advancing it runs what fell due
(backend/services/billing/clock.py). Test clocks exist in test mode only. A deleted clock keeps
its row (`deleted_at` set), so whatever still points at it stays valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import PriceType, TestClockStatus
from backend.models.types import UTCDateTime, utcnow


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_merchant_created", "merchant_id", "livemode", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    name: str = Field(max_length=250)
    description: str | None = Field(default=None, max_length=1000)
    active: bool = True
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Price(SQLModel, table=True):
    """What a product costs: once (one_time) or every `recurring_interval_count` intervals."""

    __tablename__ = "prices"
    __table_args__ = (
        Index("ix_prices_merchant_created", "merchant_id", "livemode", "created_at", "id"),
        Index("ix_prices_product", "product_id", "created_at"),
        CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
        # A recurring price has an interval and a count; a one-time price has neither.
        CheckConstraint(
            "(type = 'recurring' AND recurring_interval IS NOT NULL"
            " AND recurring_interval_count >= 1)"
            " OR (type = 'one_time' AND recurring_interval IS NULL"
            " AND recurring_interval_count IS NULL)",
            name="recurring_shape",
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    product_id: str = Field(foreign_key="products.id", max_length=40)
    unit_amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    type: str = Field(default=PriceType.ONE_TIME, max_length=16)
    recurring_interval: str | None = Field(default=None, max_length=8)
    recurring_interval_count: int | None = None
    active: bool = True
    nickname: str | None = Field(default=None, max_length=250)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TestClock(SQLModel, table=True):
    __tablename__ = "test_clocks"
    __test__ = False  # not a pytest test class, whatever its name
    __table_args__ = (
        Index("ix_test_clocks_merchant_created", "merchant_id", "livemode", "created_at", "id"),
        CheckConstraint("NOT livemode", name="test_mode_only"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    name: str | None = Field(default=None, max_length=300)
    frozen_time: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=TestClockStatus.READY, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
