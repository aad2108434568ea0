"""Indexes that keep the portal's lists, searches and dashboard fast over millions of payments.

Each search alternative (e-mail, last four digits, amount) and the dashboard's per-currency
figures get an index that ends in created_at, so "newest first, 26 rows" walks the index and
stops, instead of sorting every match. The dashboard's index carries the summed columns
(PostgreSQL INCLUDE) so its aggregates can be answered from the index alone.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from backend.models.commerce import Customer, Dispute, Payment

FLAGGED = "risk_decision IN ('review', 'block')"
DASHBOARD_COLUMNS = [
    "status",
    "amount_captured",
    "amount_refunded",
    "platform_fee",
    "gateway_fee",
    "net_amount",
    "payment_method_type",
    "card_brand",
]

PAYMENT_INDEXES = (
    Index(
        "ix_payments_merchant_currency_created",
        Payment.merchant_id,
        Payment.livemode,
        Payment.currency,
        Payment.created_at,
        postgresql_include=DASHBOARD_COLUMNS,
    ),
    Index(
        "ix_payments_merchant_email_created",
        Payment.merchant_id,
        Payment.livemode,
        Payment.customer_email,
        Payment.created_at,
    ),
    Index(
        "ix_payments_merchant_last4_created",
        Payment.merchant_id,
        Payment.livemode,
        Payment.card_last4,
        Payment.created_at,
    ),
    Index(
        "ix_payments_merchant_amount_created",
        Payment.merchant_id,
        Payment.livemode,
        Payment.amount,
        Payment.created_at,
    ),
    Index(
        "ix_payments_customer_created",
        Payment.customer_id,
        Payment.created_at,
    ),
    # Payments the risk rules flagged or blocked: a few of them, so a partial index of just
    # those keeps the payments list's risk filter one short walk however many payments pass.
    Index(
        "ix_payments_merchant_flagged_created",
        Payment.merchant_id,
        Payment.livemode,
        Payment.created_at,
        sqlite_where=text(FLAGGED),
        postgresql_where=text(FLAGGED),
    ),
    Index("ix_customers_merchant_name", Customer.merchant_id, Customer.livemode, Customer.name),
    Index(
        "ix_disputes_merchant_due", Dispute.merchant_id, Dispute.livemode, Dispute.evidence_due_by
    ),
)
