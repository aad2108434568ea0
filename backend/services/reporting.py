"""Read models for the portal: headline figures and recent payments of one merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from backend.models import Payment, utcnow
from backend.models.enums import PaymentStatus

# Payments whose money was captured, whatever happened to it afterwards.
CAPTURED_STATUSES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.DISPUTED,
)
# Attempts that reached an outcome, the denominator of the success rate.
SETTLED_STATUSES = (*CAPTURED_STATUSES, PaymentStatus.FAILED)


@dataclass(frozen=True)
class Overview:
    currency: str
    since: datetime
    gross: int
    refunded: int
    fees: int
    net: int
    successful_payments: int
    failed_payments: int

    @property
    def success_rate(self) -> float | None:
        attempts = self.successful_payments + self.failed_payments
        return None if attempts == 0 else self.successful_payments / attempts


def overview(
    db: Session, *, merchant_id: str, livemode: bool, currency: str, days: int = 30
) -> Overview:
    since = utcnow() - timedelta(days=days)
    captured = Payment.status.in_(CAPTURED_STATUSES)  # type: ignore[attr-defined]
    row = db.exec(
        select(
            func.coalesce(func.sum(case((captured, Payment.amount_captured), else_=0)), 0),
            func.coalesce(func.sum(case((captured, Payment.amount_refunded), else_=0)), 0),
            func.coalesce(
                func.sum(case((captured, Payment.platform_fee + Payment.gateway_fee), else_=0)), 0
            ),
            func.coalesce(func.sum(case((captured, Payment.net_amount), else_=0)), 0),
            func.count().filter(captured),
            func.count().filter(Payment.status == PaymentStatus.FAILED),
        ).where(
            Payment.merchant_id == merchant_id,
            Payment.livemode == livemode,
            Payment.currency == currency,
            Payment.created_at >= since,
        )
    ).one()
    gross, refunded, fees, net, ok, failed = (int(v or 0) for v in row)
    return Overview(currency, since, gross, refunded, fees, net, ok, failed)


def recent_payments(
    db: Session, *, merchant_id: str, livemode: bool, limit: int = 10
) -> list[Payment]:
    return list(
        db.exec(
            select(Payment)
            .where(Payment.merchant_id == merchant_id, Payment.livemode == livemode)
            .order_by(Payment.created_at.desc(), Payment.id.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    )


def currencies_used(db: Session, *, merchant_id: str, livemode: bool) -> list[str]:
    """The merchant's currencies, most used first."""
    rows = db.exec(
        select(Payment.currency, func.count())
        .where(Payment.merchant_id == merchant_id, Payment.livemode == livemode)
        .group_by(Payment.currency)
        .order_by(func.count().desc(), Payment.currency)
    )
    return [currency for currency, _ in rows]


@dataclass(frozen=True)
class PaymentFilters:
    """What the payments list can be narrowed by; every field optional."""

    query: str = ""  # a payment id, an e-mail, the last four digits or an amount (12.34)
    statuses: tuple[str, ...] = ()
    currency: str | None = None
    method: str | None = None
    gateway: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class Page:
    payments: list[Payment]
    next_cursor: str | None  # opaque: "<iso time>|<id>" of the last row shown


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
    """
    from backend.services.currency import ISO_4217_EXPONENTS

    limit = max(1, min(limit, 100))
    query = select(Payment).where(Payment.merchant_id == merchant_id, Payment.livemode == livemode)
    text = filters.query.strip()
    if text:
        conditions = [Payment.id == text, Payment.customer_email == text.lower()]
        if text.isdigit() and len(text) == 4:
            conditions.append(Payment.card_last4 == text)
        amount = _parse_amount(text)
        if amount is not None:
            # An amount typed as 12.34 matches 1234 in two-decimal currencies, 12 in JPY...
            for exponent in sorted(set(ISO_4217_EXPONENTS.values())):
                scaled = amount.scaleb(exponent)
                if scaled == scaled.to_integral_value():
                    conditions.append(
                        (Payment.amount == int(scaled))
                        & Payment.currency.in_(  # type: ignore[attr-defined]
                            [c for c, e in ISO_4217_EXPONENTS.items() if e == exponent]
                        )
                    )
        query = query.where(or_(*conditions))
    if filters.statuses:
        query = query.where(Payment.status.in_(filters.statuses))  # type: ignore[attr-defined]
    if filters.currency:
        query = query.where(Payment.currency == filters.currency.upper())
    if filters.method:
        query = query.where(Payment.payment_method_type == filters.method)
    if filters.gateway:
        query = query.where(Payment.gateway == filters.gateway)
    if filters.created_from:
        query = query.where(Payment.created_at >= filters.created_from)
    if filters.created_to:
        query = query.where(Payment.created_at < filters.created_to)
    if cursor:
        after_time, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Payment.created_at < after_time,
                (Payment.created_at == after_time) & (Payment.id < after_id),
            )
        )
    rows = list(
        db.exec(
            query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
        )
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = f"{last.created_at.isoformat()}|{last.id}"
    return Page(rows, next_cursor)


def _parse_amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").lstrip("$€£¥")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    from backend.services.errors import ValidationFailed

    try:
        when, _, payment_id = cursor.partition("|")
        parsed = datetime.fromisoformat(when)
    except ValueError as exc:
        raise ValidationFailed("That page cursor is not valid", param="cursor") from exc
    if parsed.tzinfo is None or not payment_id:
        raise ValidationFailed("That page cursor is not valid", param="cursor")
    return parsed, payment_id
