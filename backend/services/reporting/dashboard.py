"""The dashboard's read model: its figures (gross, net, fees, success rate, refunds, disputes)
against the previous period, its charts (volume by day, method and currency) and the latest
payments, read in one unit of work.

Every query is scoped to one merchant and one mode and leans on an index that ends in
created_at (backend/models/reporting_indexes.py), so the figures stay fast with millions of
payments: see bench/dashboard.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Integer, case, cast, func
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend.core.db import session_scope
from backend.models import Dispute, Payment, Refund
from backend.models.enums import PaymentStatus, RefundStatus
from backend.services import labels
from backend.services.payments.state_machine import CAPTURED
from backend.services.reporting.periods import Period, zone

# A payment the customer's bank accepted: captured, or authorized and waiting for capture.
SUCCESSFUL_STATUSES = (*CAPTURED, PaymentStatus.AUTHORIZED)
# Local days are assembled from 15-minute UTC buckets: every time zone in use today is a whole
# number of quarter hours from UTC, so a bucket never straddles a local midnight.
_BUCKET_SECONDS = 900

# The previous period is "near-empty" when its figure is zero or under 1/NEAR_EMPTY_FACTOR
# (1%) of the current one: a percentage against it ("+20740%") tells nothing, so the change
# reads "New". Exact on integers: |previous| * 100 < |current|.
NEAR_EMPTY_FACTOR = 100


@dataclass(frozen=True)
class Change:
    """How a figure moved against the previous period."""

    ratio: float | None = None  # (current - previous) / |previous|, when that means something
    new: bool = False  # the previous period had (next to) none of it: see NEAR_EMPTY_FACTOR
    no_earlier_data: bool = False  # the previous period had nothing to measure (no attempts)
    up: bool = False  # the figure grew


def change(current: int | float | None, previous: int | float | None) -> Change:
    """The one place a change against the previous period is worked out.

    None on either side (a rate of no attempts, an average of no payments) compares nothing;
    a previous figure that is zero or below 1% of the current one is "new" rather than a
    percentage in the thousands; otherwise the relative change, 0 when both are zero.
    """
    if current is None:
        return Change()
    if previous is None:
        return Change(no_earlier_data=True)
    if current == 0 and previous == 0:
        return Change(ratio=0.0)
    if abs(previous) * NEAR_EMPTY_FACTOR < abs(current):
        return Change(new=True, up=current > previous)
    ratio = (current - previous) / abs(previous)
    return Change(ratio=ratio, up=ratio > 0)


@dataclass(frozen=True)
class Kpis:
    currency: str
    gross: int = 0  # captured in the period
    net: int = 0  # what the merchant keeps of it, after fees and refunds
    fees: int = 0
    successful: int = 0
    failed: int = 0
    refunded: int = 0  # refunds issued in the period, whichever period their payment was in
    refunds: int = 0
    disputed: int = 0
    disputes: int = 0

    @property
    def success_rate(self) -> float | None:
        attempts = self.successful + self.failed
        return None if attempts == 0 else self.successful / attempts

    @property
    def captured_count(self) -> int:
        return self.successful

    @property
    def average_ticket(self) -> int | None:
        """Mean captured amount, rounded half up to the minor unit (integers only)."""
        if self.successful == 0 or self.gross == 0:
            return None
        return (self.gross * 2 + self.successful) // (2 * self.successful)


def _scope(model: Any, merchant_id: str, livemode: bool) -> list[ColumnElement[bool]]:
    return [model.merchant_id == merchant_id, model.livemode == livemode]


def kpis(db: Session, *, merchant_id: str, livemode: bool, currency: str, period: Period) -> Kpis:
    captured = col(Payment.status).in_(CAPTURED)
    row = db.exec(
        select(
            func.coalesce(func.sum(case((captured, Payment.amount_captured), else_=0)), 0),
            func.coalesce(func.sum(case((captured, Payment.net_amount), else_=0)), 0),
            func.coalesce(
                func.sum(case((captured, Payment.platform_fee + Payment.gateway_fee), else_=0)), 0
            ),
            func.count().filter(col(Payment.status).in_(SUCCESSFUL_STATUSES)),
            func.count().filter(Payment.status == PaymentStatus.FAILED),
        ).where(
            *_scope(Payment, merchant_id, livemode),
            Payment.currency == currency,
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
    ).one()
    refunds = db.exec(
        select(func.coalesce(func.sum(Refund.amount), 0), func.count()).where(
            *_scope(Refund, merchant_id, livemode),
            Refund.currency == currency,
            col(Refund.status).in_((RefundStatus.SUCCEEDED, RefundStatus.PENDING)),
            Refund.created_at >= period.start,
            Refund.created_at < period.end,
        )
    ).one()
    disputes = db.exec(
        select(func.coalesce(func.sum(Dispute.amount), 0), func.count()).where(
            *_scope(Dispute, merchant_id, livemode),
            Dispute.currency == currency,
            Dispute.created_at >= period.start,
            Dispute.created_at < period.end,
        )
    ).one()
    gross, net, fees, ok, failed = (int(v or 0) for v in row)
    return Kpis(
        currency,
        gross=gross,
        net=net,
        fees=fees,
        successful=ok,
        failed=failed,
        refunded=int(refunds[0] or 0),
        refunds=int(refunds[1] or 0),
        disputed=int(disputes[0] or 0),
        disputes=int(disputes[1] or 0),
    )


def _epoch_bucket(db: Session, column: Any) -> ColumnElement[int]:
    if db.get_bind().dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", column), Integer)
    else:
        seconds = cast(func.floor(func.extract("epoch", column)), Integer)
    return cast(func.floor(seconds / _BUCKET_SECONDS), Integer)


@dataclass(frozen=True)
class DayVolume:
    day: date
    gross: int
    count: int


def volume_by_day(
    db: Session, *, merchant_id: str, livemode: bool, currency: str, period: Period
) -> list[DayVolume]:
    """Captured volume per local day of the period, every day present (zeros included)."""
    bucket = _epoch_bucket(db, Payment.created_at).label("bucket")
    rows = db.exec(
        select(bucket, func.sum(Payment.amount_captured), func.count())
        .where(
            *_scope(Payment, merchant_id, livemode),
            Payment.currency == currency,
            col(Payment.status).in_(CAPTURED),
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
        .group_by(bucket)
    )
    zone_ = zone(period.tz)
    gross: dict[date, int] = defaultdict(int)
    count: dict[date, int] = defaultdict(int)
    for quarter, amount, n in rows:
        day = datetime.fromtimestamp(int(quarter) * _BUCKET_SECONDS, UTC).astimezone(zone_).date()
        gross[day] += int(amount or 0)
        count[day] += int(n)
    return [DayVolume(d, gross[d], count[d]) for d in period.day_list()]


@dataclass(frozen=True)
class Slice:
    label: str
    count: int
    volume: int


def volume_by_method(
    db: Session, *, merchant_id: str, livemode: bool, currency: str, period: Period
) -> list[Slice]:
    """Captured payments per payment method; cards split by brand (Visa, Mastercard...)."""
    rows = db.exec(
        select(
            Payment.payment_method_type,
            Payment.card_brand,
            func.count(),
            func.sum(Payment.amount_captured),
        )
        .where(
            *_scope(Payment, merchant_id, livemode),
            Payment.currency == currency,
            col(Payment.status).in_(CAPTURED),
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
        .group_by(Payment.payment_method_type, Payment.card_brand)
    )
    slices: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for method, brand, n, amount in rows:
        label = method_label(method, brand)
        slices[label][0] += int(n)
        slices[label][1] += int(amount or 0)
    return sorted(
        (Slice(label, n, amount) for label, (n, amount) in slices.items()),
        key=lambda s: (-s.volume, s.label),
    )


def method_label(method: str | None, brand: str | None) -> str:
    if method == "card" and brand:
        return labels.card_brand(brand)
    return labels.words(method or "other")


def volume_by_currency(
    db: Session, *, merchant_id: str, livemode: bool, period: Period
) -> list[Slice]:
    """Captured payments per currency (volumes stay in their own currency: never summed)."""
    rows = db.exec(
        select(Payment.currency, func.count(), func.sum(Payment.amount_captured))
        .where(
            *_scope(Payment, merchant_id, livemode),
            col(Payment.status).in_(CAPTURED),
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
        .group_by(Payment.currency)
    )
    return sorted(
        (Slice(c, int(n), int(v or 0)) for c, n, v in rows), key=lambda s: (-s.count, s.label)
    )


def recent_payments(
    db: Session, *, merchant_id: str, livemode: bool, limit: int = 10
) -> list[Payment]:
    return list(
        db.exec(
            select(Payment)
            .where(*_scope(Payment, merchant_id, livemode))
            .order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
            .limit(limit)
        )
    )


def currencies_used(db: Session, *, merchant_id: str, livemode: bool) -> list[str]:
    """The merchant's currencies, alphabetically.

    Walks the (merchant, mode, currency, created_at) index one currency at a time, a seek per
    currency (a few dozen at most), instead of reading every payment to group them.
    """
    found: list[str] = []
    while True:
        query = select(Payment.currency).where(*_scope(Payment, merchant_id, livemode))
        if found:
            query = query.where(col(Payment.currency) > found[-1])
        nxt = db.exec(query.order_by(Payment.currency).limit(1)).first()
        if nxt is None:
            return found
        found.append(nxt)


@dataclass(frozen=True)
class Overview:
    """Everything the dashboard shows for one period and currency, read in one unit of work."""

    currencies: list[str]  # the merchant's currencies in this mode
    currency: str  # the one the figures are in
    current: Kpis
    previous: Kpis  # the same length of time just before
    days: list[DayVolume]
    methods: list[Slice]
    by_currency: list[Slice]
    recent: list[Payment]


def overview(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    currency: str,
    fallback_currency: str,
    period: Period,
    recent: int = 10,
) -> Overview:
    """The dashboard's figures, charts and latest payments. The figures are in `currency`
    when the merchant has payments in it, else in `fallback_currency` (their default) when
    they have some in that, else in their first currency."""
    scope = {"merchant_id": merchant_id, "livemode": livemode}
    currencies = currencies_used(db, **scope)
    if currency not in currencies:
        currency = (
            fallback_currency
            if fallback_currency in currencies or not currencies
            else currencies[0]
        )
    return Overview(
        currencies=currencies,
        currency=currency,
        current=kpis(db, **scope, currency=currency, period=period),
        previous=kpis(db, **scope, currency=currency, period=period.previous),
        days=volume_by_day(db, **scope, currency=currency, period=period),
        methods=volume_by_method(db, **scope, currency=currency, period=period),
        by_currency=volume_by_currency(db, **scope, period=period),
        recent=recent_payments(db, **scope, limit=recent),
    )


def read_overview(
    *,
    merchant_id: str,
    livemode: bool,
    currency: str,
    fallback_currency: str,
    period: Period,
    recent: int = 10,
    engine: Engine | None = None,
) -> Overview:
    """overview() in a read-only unit of work of its own (for callers without a session,
    such as a dashboard refreshing its figures in the background)."""
    with session_scope(engine, readonly=True) as db:
        return overview(
            db,
            merchant_id=merchant_id,
            livemode=livemode,
            currency=currency,
            fallback_currency=fallback_currency,
            period=period,
            recent=recent,
        )
