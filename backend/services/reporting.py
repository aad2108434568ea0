"""Read models for the portal: headline figures and recent payments of one merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func
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
