"""The web domains registered with Stripe for Apple Pay and Google Pay on the hosted checkout."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.types import UTCDateTime, utcnow


class PaymentMethodDomain(SQLModel, table=True):
    """Stripe's PaymentMethodDomain for a domain the checkout is served from, as Stripe last
    reported it: the Payment Element shows a wallet there only while its status is "active".

    One row per domain and Stripe mode (a test key and a live key register separately)."""

    __tablename__ = "payment_method_domains"
    __table_args__ = (
        Index("uq_payment_method_domains_domain", "domain_name", "livemode", unique=True),
    )

    id: str = Field(primary_key=True, max_length=255)  # Stripe's pmd_...
    domain_name: str = Field(max_length=253)
    livemode: bool = False
    enabled: bool = True
    apple_pay_status: str = Field(default="inactive", max_length=16)
    apple_pay_error: str | None = Field(default=None, max_length=500)
    google_pay_status: str = Field(default="inactive", max_length=16)
    google_pay_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
