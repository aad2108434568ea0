"""The payments list: filters, text search (an id, an e-mail, the last four digits or an
amount) and keyset pages, newest first.

Each query is scoped to one merchant and one mode and walks an index that ends in created_at
(backend/models/reporting_indexes.py), so a deep page costs what the first one costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend.core.currency import ISO_4217_EXPONENTS
from backend.core.errors import ValidationFailed
from backend.models import Payment
from backend.models.enums import RiskDecision
from backend.models.reporting_indexes import FLAGGED
from backend.services.payments.money_input import typed_amount

UNREVIEWED = "unreviewed"  # flagged for review, and nobody has closed the review yet
RISK_FILTERS = (*RiskDecision, UNREVIEWED)


@dataclass(frozen=True)
class PaymentFilters:
    """What the payments list can be narrowed by; every field optional."""

    query: str = ""  # a payment id, an e-mail, the last four digits or an amount (12.34)
    statuses: tuple[str, ...] = ()
    currency: str | None = None
    method: str | None = None
    gateway: str | None = None
    customer_id: str | None = None
    # The risk decision (allow, review or block), or UNREVIEWED: flagged and not yet closed.
    risk: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class Page:
    payments: list[Payment]
    next_cursor: str | None  # opaque: "<iso time>|<id>" of the last row shown


def _text_alternatives(text: str) -> list[ColumnElement[bool]]:
    """Each way the typed text can match; each alternative is served by its own index."""
    conditions: list[ColumnElement[bool]] = [Payment.id == text]
    if "@" in text:
        conditions.append(Payment.customer_email == text.lower())
    if text.isdigit() and len(text) == 4:
        conditions.append(Payment.card_last4 == text)
    amount = typed_amount(text)
    if amount is not None:
        # An amount typed as 12.34 matches 1234 in two-decimal currencies, 12 in JPY...
        for exp in sorted(set(ISO_4217_EXPONENTS.values())):
            scaled = amount.scaleb(exp)
            if scaled == scaled.to_integral_value() and scaled < 10**15:
                currencies = [c for c, e in ISO_4217_EXPONENTS.items() if e == exp]
                conditions.append(
                    (Payment.amount == int(scaled)) & col(Payment.currency).in_(currencies)
                )
    return conditions


def filtered_query(merchant_id: str, livemode: bool, filters: PaymentFilters) -> Any:
    """The list's query for these filters, unordered and without the text search (benchmarks
    EXPLAIN it)."""
    query = select(Payment).where(Payment.merchant_id == merchant_id, Payment.livemode == livemode)
    if filters.statuses:
        query = query.where(col(Payment.status).in_(filters.statuses))
    if filters.currency:
        query = query.where(Payment.currency == filters.currency.upper())
    if filters.method:
        query = query.where(Payment.payment_method_type == filters.method)
    if filters.gateway:
        query = query.where(Payment.gateway == filters.gateway)
    if filters.customer_id:
        query = query.where(Payment.customer_id == filters.customer_id)
    if filters.risk == UNREVIEWED:
        query = query.where(
            text(FLAGGED),
            Payment.risk_decision == RiskDecision.REVIEW,
            col(Payment.reviewed_at).is_(None),
        )
    elif filters.risk in (RiskDecision.REVIEW, RiskDecision.BLOCK):
        # Spelled as the partial index's predicate, so the planner may use it.
        query = query.where(text(FLAGGED), Payment.risk_decision == filters.risk)
    elif filters.risk:
        query = query.where(Payment.risk_decision == filters.risk)
    if filters.created_from:
        query = query.where(Payment.created_at >= filters.created_from)
    if filters.created_to:
        query = query.where(Payment.created_at < filters.created_to)
    return query


def search_payments(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    filters: PaymentFilters = PaymentFilters(),
    cursor: str | None = None,
    limit: int = 25,
) -> Page:
    """One page of a merchant's payments, newest first.

    Keyset pagination (created_at, id) instead of OFFSET: a deep page costs what the first page
    costs, however many rows come before it, and rows arriving meanwhile do not shift pages.
    A search runs one small query per way the text can match (id, e-mail, last four, amount)
    and merges them: one OR over all of them could use no single index and would sort every
    match; each alternative alone walks its own index and stops after a page.
    """
    limit = max(1, min(limit, 1000))
    base = filtered_query(merchant_id, livemode, filters)
    if cursor:
        after_time, after_id = _decode_cursor(cursor)
        base = base.where(
            or_(
                Payment.created_at < after_time,
                (Payment.created_at == after_time) & (Payment.id < after_id),
            )
        )
    text = filters.query.strip()[:200]
    alternatives: list[ColumnElement[bool] | None] = (
        list(_text_alternatives(text)) if text else [None]
    )
    found: dict[str, Payment] = {}
    for condition in alternatives:
        query = base if condition is None else base.where(condition)
        ordered = query.order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
        for payment in db.exec(ordered.limit(limit + 1)):
            found[payment.id] = payment
    rows = sorted(found.values(), key=lambda p: (p.created_at, p.id), reverse=True)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = f"{last.created_at.isoformat()}|{last.id}"
    return Page(rows, next_cursor)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        when, _, payment_id = cursor.partition("|")
        parsed = datetime.fromisoformat(when)
    except ValueError as exc:
        raise ValidationFailed("That page cursor is not valid", param="cursor") from exc
    if parsed.tzinfo is None or not payment_id:
        raise ValidationFailed("That page cursor is not valid", param="cursor")
    return parsed, payment_id
