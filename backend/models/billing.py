"""Billing's catalogue and its time: products, their prices, and test clocks.

Amounts are integers in the minor unit of the row's currency. A price is immutable once created
(amount, currency, type, interval), as Stripe's are: only `active`, `nickname` and metadata
change; a new amount is a new price. Products and prices are archived (`active` false), never
deleted, so what was sold keeps pointing at what it was sold at.

A subscription bills its items in advance, period after period from its billing-cycle anchor;
each period's bill is an invoice (draft -> open -> paid | uncollectible | void) whose lines say
what it charges and credits. A line not yet on an invoice (a proration billed "on the next
invoice", credit carried forward) is pending on its subscription (`invoice_id` NULL).

A test clock is a frozen "now" for the test-mode objects created on it (Stripe's test clocks):
the billing engine reads its time instead of the real one, and advancing it runs what fell due
(backend/services/billing/clock.py). Test clocks exist in test mode only. A deleted clock keeps
its row (`deleted_at` set), so whatever still points at it stays valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import (
    BillingReason,
    DunningEnd,
    InvoiceStatus,
    PriceType,
    SubscriptionStatus,
    TestClockStatus,
)
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


class BillingSettings(SQLModel, table=True):
    """A merchant's billing choices: the dunning schedule, what ends it, the customer portal's
    permissions and the invoice numbers' prefix. Made with the defaults on first use."""

    __tablename__ = "billing_settings"

    merchant_id: str = Field(foreign_key="merchants.id", primary_key=True, max_length=40)
    # Days after a renewal's first failure on which it is retried (Stripe's default: 3, 5, 7).
    retry_days: list[int] = Field(default_factory=lambda: [3, 5, 7], sa_type=JSON)
    dunning_end: str = Field(default=DunningEnd.CANCEL, max_length=16)
    portal_allows_cancel: bool = True
    invoice_prefix: str = Field(max_length=12)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InvoiceSequence(SQLModel, table=True):
    """The next invoice number of a merchant in one mode: taken under a row lock when an
    invoice is finalized, so numbers are sequential without gaps or repeats."""

    __tablename__ = "invoice_sequences"

    merchant_id: str = Field(foreign_key="merchants.id", primary_key=True, max_length=40)
    livemode: bool = Field(default=False, primary_key=True)
    next_number: int = 1


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_merchant_created", "merchant_id", "livemode", "created_at", "id"),
        Index("ix_subscriptions_customer", "customer_id", "created_at"),
        # The engine's work list: what is due, per clock (NULL: the real clock).
        Index("ix_subscriptions_due", "test_clock_id", "next_action_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    # The customer's test clock, if any: the subscription lives at that clock's time.
    test_clock_id: str | None = Field(default=None, foreign_key="test_clocks.id", max_length=40)
    status: str = Field(default=SubscriptionStatus.INCOMPLETE, max_length=20)
    currency: str = Field(max_length=3)
    # A saved card of the customer (pm_...), else the customer's default is charged.
    default_payment_method_id: str | None = Field(default=None, max_length=40)
    billing_cycle_anchor: datetime = Field(sa_type=UTCDateTime)
    current_period_start: datetime = Field(sa_type=UTCDateTime)
    current_period_end: datetime = Field(sa_type=UTCDateTime)
    trial_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    trial_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    trial_will_end_sent: bool = False
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # requested (by the merchant or the customer) or payment_failed (dunning ran out).
    cancellation_reason: str | None = Field(default=None, max_length=32)
    # Collection paused: what becomes of the invoices meanwhile (void, keep_as_draft,
    # mark_uncollectible), and when it resumes by itself (None: when the merchant resumes it).
    pause_behavior: str | None = Field(default=None, max_length=24)
    pause_resumes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    latest_invoice_id: str | None = Field(default=None, max_length=40)
    # When the engine must look at it next (renewal, trial end, retry, resume); None: never.
    next_action_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubscriptionItem(SQLModel, table=True):
    """One price of a subscription, with its quantity (per-unit)."""

    __tablename__ = "subscription_items"
    __table_args__ = (
        UniqueConstraint("subscription_id", "price_id", name="one_item_per_price"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(foreign_key="subscriptions.id", max_length=40)
    price_id: str = Field(foreign_key="prices.id", max_length=40)
    quantity: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_merchant_created", "merchant_id", "livemode", "created_at", "id"),
        Index("ix_invoices_customer", "customer_id", "created_at"),
        Index("ix_invoices_subscription", "subscription_id", "created_at"),
        # Open invoices whose next retry is due, per clock.
        Index("ix_invoices_retry", "test_clock_id", "next_payment_attempt"),
        UniqueConstraint("merchant_id", "livemode", "number", name="number_per_merchant"),
        # One invoice per subscription, reason and period: two workers renewing the same
        # period at once cannot both bill it.
        UniqueConstraint("period_key", name="one_invoice_per_period"),
        CheckConstraint("amount_paid >= 0 AND amount_due >= 0", name="amounts_not_negative"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    subscription_id: str | None = Field(default=None, foreign_key="subscriptions.id", max_length=40)
    test_clock_id: str | None = Field(default=None, foreign_key="test_clocks.id", max_length=40)
    # Given when finalized: the merchant's prefix and a sequential number (ABCD1234-0001).
    number: str | None = Field(default=None, max_length=32)
    status: str = Field(default=InvoiceStatus.DRAFT, max_length=16)
    billing_reason: str = Field(default=BillingReason.MANUAL, max_length=24)
    period_key: str | None = Field(default=None, max_length=120)
    currency: str = Field(max_length=3)
    # subtotal: the lines' sum; total: the same (no tax, no discounts); amount_due: what is
    # charged (total, or 0 when credits exceed it: the rest is carried forward).
    subtotal: int = Field(default=0, sa_type=BigInteger)
    total: int = Field(default=0, sa_type=BigInteger)
    amount_due: int = Field(default=0, sa_type=BigInteger)
    amount_paid: int = Field(default=0, sa_type=BigInteger)
    attempt_count: int = 0
    next_payment_attempt: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first failed attempt, from which the retry schedule counts.
    first_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last payment attempted for it (pay_...), and why it failed.
    payment_id: str | None = Field(default=None, foreign_key="payments.id", max_length=40)
    last_failure_code: str | None = Field(default=None, max_length=64)
    last_failure_message: str | None = Field(default=None, max_length=300)
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    customer_email: str | None = Field(default=None, max_length=320)
    customer_name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    finalized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marked_uncollectible_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InvoiceLine(SQLModel, table=True):
    """A line of an invoice: a period of a subscription item, a proration (a credit is
    negative) or credit carried forward. Pending (not on an invoice yet) while invoice_id is
    NULL: it goes on its subscription's next invoice."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        Index("ix_invoice_lines_invoice", "invoice_id", "created_at"),
        Index("ix_invoice_lines_pending", "subscription_id", "invoice_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    invoice_id: str | None = Field(default=None, foreign_key="invoices.id", max_length=40)
    subscription_id: str | None = Field(default=None, foreign_key="subscriptions.id", max_length=40)
    price_id: str | None = Field(default=None, foreign_key="prices.id", max_length=40)
    description: str = Field(max_length=500)
    quantity: int | None = None
    unit_amount: int | None = Field(default=None, sa_type=BigInteger)
    amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    proration: bool = False
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BillingPortalSession(SQLModel, table=True):
    """A signed, expiring link for a customer to their billing portal (update the card, see
    and download invoices, cancel when the merchant allows). Only the secret's hash is kept."""

    __tablename__ = "billing_portal_sessions"
    __table_args__ = (
        UniqueConstraint("secret_hash", name="one_secret"),
        Index("ix_billing_portal_sessions_customer", "customer_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    return_url: str | None = Field(default=None, max_length=2000)
    secret_hash: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
