"""What the portal shows of customers: the list with what each is worth, and one customer's
details (the cards it paid with, the cards saved for it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.models import Customer, Payment, PaymentMethod
from backend.services.context import Scope
from backend.services.customers import payment_methods, records
from backend.services.paging import MAX_LIMIT
from backend.services.payments.state_machine import CAPTURED


@dataclass(frozen=True)
class CustomerSummary:
    customer: Customer
    payments: int = 0
    # Lifetime value per currency: captured minus refunded, never summed across currencies.
    lifetime_value: dict[str, int] = field(default_factory=dict)
    last_payment_at: datetime | None = None


@dataclass(frozen=True)
class CustomerPage:
    customers: list[CustomerSummary]
    next_cursor: str | None


def _summaries(db: Session, customers: list[Customer]) -> list[CustomerSummary]:
    """Figures for one page of customers: one grouped query over their payments only."""
    if not customers:
        return []
    ids = [c.id for c in customers]
    counts: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    values: dict[str, dict[str, int]] = defaultdict(dict)
    captured = col(Payment.status).in_(CAPTURED)
    rows = db.exec(
        select(
            Payment.customer_id,
            Payment.currency,
            func.count(),
            func.sum(Payment.amount_captured - Payment.amount_refunded).filter(captured),
            func.max(Payment.created_at),
        )
        .where(col(Payment.customer_id).in_(ids))
        .group_by(Payment.customer_id, Payment.currency)
    )
    for customer_id, currency, n, value, newest in rows:
        counts[customer_id] += int(n)
        if value:
            values[customer_id][currency] = int(value)
        if newest is not None:
            newest = _aware(newest)
            if customer_id not in last or newest > last[customer_id]:
                last[customer_id] = newest
    return [
        CustomerSummary(c, counts[c.id], dict(sorted(values[c.id].items())), last.get(c.id))
        for c in customers
    ]


def _aware(value: datetime | str) -> datetime:
    """max() over a UTCDateTime column comes back raw from SQLite (a naive string)."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def list_customers(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    query: str = "",
    cursor: str | None = None,
    limit: int = 25,
) -> CustomerPage:
    """Newest customers first (keyset pages); a search matches the start of an e-mail or a
    name, or a whole id. Deleted customers are not listed."""
    rows, next_cursor = records.search_customers(
        db,
        Scope(merchant_id, livemode),
        query=query,
        limit=max(1, min(limit, MAX_LIMIT)),
        cursor=cursor,
    )
    return CustomerPage(_summaries(db, rows), next_cursor)


@dataclass(frozen=True)
class CardUsed:
    """A card the customer paid with (from its payments), saved or not."""

    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    payments: int
    last_used_at: datetime


@dataclass(frozen=True)
class CustomerDetail:
    summary: CustomerSummary
    cards_used: list[CardUsed]
    saved_methods: list[PaymentMethod]


def get_customer(
    db: Session, *, merchant_id: str, livemode: bool, customer_id: str
) -> CustomerDetail:
    """One customer (not deleted) with its figures, the cards it paid with and its saved cards."""
    customer = records.get_customer(db, Scope(merchant_id, livemode), customer_id)
    cards = [
        CardUsed(brand, last4, month, year, int(n), _aware(used))
        for brand, last4, month, year, n, used in db.exec(
            select(
                Payment.card_brand,
                Payment.card_last4,
                Payment.card_exp_month,
                Payment.card_exp_year,
                func.count(),
                func.max(Payment.created_at),
            )
            .where(Payment.customer_id == customer.id, col(Payment.card_last4).is_not(None))
            .group_by(
                Payment.card_brand,
                Payment.card_last4,
                Payment.card_exp_month,
                Payment.card_exp_year,
            )
        )
    ]
    cards.sort(key=lambda m: m.last_used_at, reverse=True)
    saved = payment_methods.saved_methods(db, customer)
    return CustomerDetail(_summaries(db, [customer])[0], cards, saved)
