"""Hosted checkout: sessions a customer pays on, reusable payment links, merchants' logos.

Amounts are integers in the minor unit of the row's `currency` (ISO 4217 exponent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, BigInteger, Index, LargeBinary
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class PaymentLink(SQLModel, table=True):
    """A reusable link (and QR code) that opens a fresh checkout session on every visit."""

    __tablename__ = "payment_links"
    __table_args__ = (
        Index("ix_payment_links_merchant_created", "merchant_id", "livemode", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    name: str = Field(max_length=120)  # what the customer pays for, shown on the page
    description: str | None = Field(default=None, max_length=500)
    currency: str = Field(max_length=3)
    # Fixed price per unit; None: the customer chooses the amount within min and max.
    unit_amount: int | None = Field(default=None, sa_type=BigInteger)
    min_amount: int | None = Field(default=None, sa_type=BigInteger)
    max_amount: int | None = Field(default=None, sa_type=BigInteger)
    # The customer may choose a quantity from 1 to max_quantity (1: no choice).
    max_quantity: int = 1
    # A recurring price: paying subscribes the customer to it (the card saved, the first
    # period paid at the checkout); currency and unit_amount are the price's.
    price_id: str | None = Field(default=None, foreign_key="prices.id", max_length=40)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckoutSession(SQLModel, table=True):
    """One customer's visit to pay one order: open, then complete (paid) or expired."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (
        Index("ix_checkout_sessions_merchant_created", "merchant_id", "livemode", "created_at"),
        Index("ix_checkout_sessions_status_expires", "status", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    status: str = Field(default="open", max_length=16)
    order_id: str = Field(foreign_key="orders.id", index=True, max_length=40)
    payment_id: str | None = Field(default=None, foreign_key="payments.id", max_length=40)
    payment_link_id: str | None = Field(
        default=None, foreign_key="payment_links.id", index=True, max_length=40
    )
    amount_total: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    # [{"name", "quantity", "unitAmountCents"}]: what the order summary shows.
    line_items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    customer_email: str | None = Field(default=None, max_length=320)
    success_url: str | None = Field(default=None, max_length=2000)
    cancel_url: str | None = Field(default=None, max_length=2000)
    payment_methods: list[str] = Field(default_factory=lambda: ["card"], sa_type=JSON)
    # The page offers "save this card for future payments" (the merchant's consent text); a
    # customer who ticks it has the card saved for them as the payment succeeds.
    save_payment_method: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    expires_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BrandLogo(SQLModel, table=True):
    """A merchant's checkout logo, stored in the database so every worker can serve it.

    Rows are immutable: a new upload is a new row, so the logo's URL can be cached forever.
    """

    __tablename__ = "brand_logos"

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", index=True, max_length=40)
    content_type: str = Field(max_length=32)
    data: bytes = Field(sa_type=LargeBinary)
    width: int
    height: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
