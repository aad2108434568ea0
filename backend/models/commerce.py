"""Customers, orders and the money that moves for them: payments, refunds, disputes.

Every amount is an integer in the minor unit of the row's `currency` (ISO 4217 exponent).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, text
from sqlmodel import Field, SQLModel

import backend.models.base  # noqa: F401  (naming convention first: before any table class)
from backend.models.enums import (
    CaptureMethod,
    DisputeStatus,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from backend.models.transient import transient_setattr
from backend.models.types import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_merchant_email", "merchant_id", "livemode", "email"),
        Index("ix_customers_merchant_created", "merchant_id", "livemode", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    # The address; `country` is its country (ISO 3166-1 alpha-2), also read by the risk rules.
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    address_city: str | None = Field(default=None, max_length=100)
    address_state: str | None = Field(default=None, max_length=100)
    address_postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    # The saved method charged when none is named (a PaymentMethod of this customer, pm_...).
    # No foreign key: customers and payment_methods would point at each other; the service
    # layer (backend.services.customers) sets it only to an attached method of this customer.
    default_payment_method_id: str | None = Field(default=None, max_length=40)
    # This customer at each processor its cards are saved at: {route key: processor's
    # customer id}, the route key being the processor configuration's id, or the gateway's
    # name for the platform's own account. Kept even when a card is refused, so a customer is
    # made at most once per processor account.
    gateway_customer_ids: dict[str, str] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"}
    )
    # A test-mode customer created on a test clock lives at its time, with its subscriptions.
    test_clock_id: str | None = Field(default=None, foreign_key="test_clocks.id", max_length=40)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Soft delete: a deleted customer leaves lists, search and the API (404) but stays for the
    # history of its payments.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaymentMethod(SQLModel, table=True):
    """A card saved for a customer at one processor, to be charged later (off session).

    Only what may be stored about a card: brand, last four, expiry, country and the keyed
    fingerprint; never a number. The card itself lives at the processor, under the processor's
    own customer (`gateway_customer_id`, one per customer and processor configuration) and
    payment method (`gateway_payment_method_id`), so it is charged through that configuration
    only. Detaching keeps the row (`detached_at`) for the history of its payments.
    """

    __tablename__ = "payment_methods"
    __table_args__ = (
        Index("ix_payment_methods_customer_created", "customer_id", "created_at"),
        Index("ix_payment_methods_merchant_created", "merchant_id", "livemode", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    customer_id: str = Field(foreign_key="customers.id", max_length=40)
    type: str = Field(default="card", max_length=16)
    gateway: str = Field(max_length=32)
    gateway_config_id: str | None = Field(
        default=None, foreign_key="gateway_configs.id", max_length=40
    )
    gateway_customer_id: str = Field(max_length=255)
    gateway_payment_method_id: str = Field(max_length=255)
    brand: str | None = Field(default=None, max_length=20)
    last4: str | None = Field(default=None, max_length=4)
    exp_month: int | None = None
    exp_year: int | None = None
    fingerprint: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=2)
    # The issuer asks the customer to authenticate every charge of this card (3-D Secure),
    # off session too: such a charge ends in requires_action (authentication_required).
    authentication_required: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    detached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __setattr__ = transient_setattr  # the charge path fills new ones in bulk
    __table_args__ = (
        Index("ix_orders_merchant_created", "merchant_id", "livemode", "created_at"),
        Index("ix_orders_merchant_reference", "merchant_id", "reference"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    customer_id: str | None = Field(default=None, foreign_key="customers.id", max_length=40)
    amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    reference: str | None = Field(default=None, max_length=200)
    customer_email: str | None = Field(default=None, max_length=320)
    status: str = Field(default=OrderStatus.OPEN, max_length=32)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


CONFIGURED = "gateway_config_id IS NOT NULL"


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __setattr__ = transient_setattr  # the charge path fills new ones in bulk
    __table_args__ = (
        # The dashboard's list and KPIs: one merchant, one mode, newest first.
        Index("ix_payments_merchant_created", "merchant_id", "livemode", "created_at"),
        Index(
            "ix_payments_merchant_status_created", "merchant_id", "livemode", "status", "created_at"
        ),
        Index("ix_payments_gateway_ref", "gateway", "gateway_payment_id"),
        # Risk velocity rules: recent payments by card, e-mail and IP.
        # livemode and merchant_id ride along: a capped count reads the index alone.
        Index(
            "ix_payments_fingerprint_created",
            "card_fingerprint",
            "created_at",
            "livemode",
            "merchant_id",
        ),
        Index(
            "ix_payments_email_created", "customer_email", "created_at", "livemode", "merchant_id"
        ),
        Index("ix_payments_ip_created", "ip_address", "created_at", "livemode", "merchant_id"),
        # Whether a processor configuration has taken payments (it is then never deleted), and
        # the foreign key's own checks. Partial: payments on the platform's default route,
        # the common case, never touch it.
        Index(
            "ix_payments_gateway_config",
            "gateway_config_id",
            sqlite_where=text(CONFIGURED),
            postgresql_where=text(CONFIGURED),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    order_id: str | None = Field(default=None, foreign_key="orders.id", index=True, max_length=40)
    # Searched through ix_payments_customer_created (backend/models/reporting_indexes.py).
    customer_id: str | None = Field(default=None, foreign_key="customers.id", max_length=40)
    status: str = Field(default=PaymentStatus.REQUIRES_PAYMENT_METHOD, max_length=32)
    capture_method: str = Field(default=CaptureMethod.AUTOMATIC, max_length=16)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_type=BigInteger)  # authorized total
    amount_captured: int = Field(default=0, sa_type=BigInteger)
    amount_refunded: int = Field(default=0, sa_type=BigInteger)
    platform_fee: int = Field(default=0, sa_type=BigInteger)
    gateway_fee: int = Field(default=0, sa_type=BigInteger)
    net_amount: int = Field(default=0, sa_type=BigInteger)
    gateway: str = Field(default="sandbox", max_length=32)
    # The merchant's processor configuration that took the payment (its credentials and price):
    # captures, voids and refunds go back through it, even once it is disabled. Null when the
    # platform's default route took it.
    gateway_config_id: str | None = Field(
        default=None, foreign_key="gateway_configs.id", max_length=40
    )
    gateway_payment_id: str | None = Field(default=None, max_length=255)
    payment_method_type: str = Field(default="card", max_length=16)
    card_brand: str | None = Field(default=None, max_length=20)
    card_last4: str | None = Field(default=None, max_length=4)
    card_exp_month: int | None = None
    card_exp_year: int | None = None
    card_fingerprint: str | None = Field(default=None, max_length=64)
    card_country: str | None = Field(default=None, max_length=2)
    # The wallet that tokenised the card ("apple_pay", "google_pay"; Stripe's card.wallet.type).
    card_wallet: str | None = Field(default=None, max_length=32)
    # A payment made through the API that waits for its buyer (PayPal's approval): where the
    # buyer goes back after approving / cancelling (the API's returnUrl / cancelUrl), and, for
    # a step played on our own test page (the PayPal twin, the sandbox's 3-D Secure), the
    # buyer's answer there until the merchant confirms the payment.
    return_url: str | None = Field(default=None, max_length=2048)
    cancel_url: str | None = Field(default=None, max_length=2048)
    buyer_approved: bool | None = None
    customer_email: str | None = Field(default=None, max_length=320)
    billing_country: str | None = Field(default=None, max_length=2)
    ip_address: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)
    risk_score: int | None = None
    risk_decision: str | None = Field(default=None, max_length=16)
    risk_reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    # A payment flagged for review (risk_decision "review") is open until someone closes it:
    # approved or fraudulent (backend/services/reviews.py).
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by: str | None = Field(default=None, max_length=40)
    review_outcome: str | None = Field(default=None, max_length=16)
    failure_code: str | None = Field(default=None, max_length=64)
    failure_message: str | None = Field(default=None, max_length=500)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    authorized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    captured_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the gateway's view of this object was last applied (its event's creation time):
    # an event older than this is stale and never moves the object backwards.
    gateway_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Refund(SQLModel, table=True):
    __tablename__ = "refunds"
    __table_args__ = (
        Index("ix_refunds_merchant_created", "merchant_id", "livemode", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    payment_id: str = Field(foreign_key="payments.id", index=True, max_length=40)
    amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: str = Field(default=RefundStatus.PENDING, max_length=16)
    reason: str | None = Field(default=None, max_length=64)
    # Fees handed back with this refund, so fees and net stay consistent refund by refund.
    platform_fee_refunded: int = Field(default=0, sa_type=BigInteger)
    gateway_fee_refunded: int = Field(default=0, sa_type=BigInteger)
    gateway_refund_id: str | None = Field(default=None, max_length=255, unique=True)
    failure_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    gateway_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MemberRefundDay(SQLModel, table=True):
    """What one team member refunded on one day (in the merchant's time zone), per mode and
    currency: the running total that the support refund limit and the step-up threshold are
    checked against (backend.services.payments.refund_limits), locked while a refund is decided."""

    __tablename__ = "member_refund_days"

    merchant_id: str = Field(primary_key=True, foreign_key="merchants.id", max_length=40)
    livemode: bool = Field(primary_key=True)
    user_id: str = Field(primary_key=True, foreign_key="users.id", max_length=40)
    day: date = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    amount: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Dispute(SQLModel, table=True):
    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_merchant_created", "merchant_id", "livemode", "created_at"),
        Index("ix_disputes_merchant_status", "merchant_id", "livemode", "status"),
    )

    id: str = Field(primary_key=True, max_length=40)
    merchant_id: str = Field(foreign_key="merchants.id", max_length=40)
    livemode: bool = False
    payment_id: str = Field(foreign_key="payments.id", index=True, max_length=40)
    amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: str = Field(default=DisputeStatus.NEEDS_RESPONSE, max_length=32)
    reason: str = Field(default="general", max_length=64)
    evidence_due_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gateway_dispute_id: str | None = Field(default=None, max_length=255, unique=True)
    # The processor's dispute fee, taken with the amount when the dispute opens.
    fee: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gateway_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
