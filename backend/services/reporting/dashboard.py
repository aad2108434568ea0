"""The dashboard's read model: its figures (gross, net, fees, success rate, refunds, disputes)
against the previous period, its charts (volume by day, method and currency) and the latest
payments, read in one unit of work.

The figures and charts read the running totals the booking path keeps per merchant, mode,
currency and UTC bucket (backend/services/payments/totals.py), not the payments: a 90-day
chart sums about as many cells at ten million payments as at ten thousand (bench/dashboard.py).
The latest payments are a LIMIT on an index of the payments themselves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend.core.db import session_scope
from backend.models import Payment
from backend.services import labels
from backend.services.payments import totals
from backend.services.reporting.periods import Period, zone

# A payment the customer's bank accepted: captured, or authorized and waiting for capture.
SUCCESSFUL_STATUSES = totals.SUCCESSFUL_STATUSES

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


def _bounds(*instants: datetime) -> list[int]:
    return [int(at.timestamp()) for at in instants]


_KPI_FIGURES = (
    "gross",
    "net",
    "fees",
    "successful",
    "failed",
    "refunded",
    "refunds",
    "disputed",
    "disputes",
)


def kpis(db: Session, *, merchant_id: str, livemode: bool, currency: str, period: Period) -> Kpis:
    """The period's figures: payments by their created_at (gross, net and fees of the captured
    ones, successful and failed counts), refunds booked and disputes opened by theirs."""
    sums = totals.segment_sums(
        db.connection(),
        totals.TOTALS,
        merchant_id=merchant_id,
        livemode=livemode,
        currencies=[currency],
        boundaries=_bounds(period.start, period.end),
        figures=_KPI_FIGURES,
    )
    figures = dict(zip(_KPI_FIGURES, sums.get((0,), [0] * len(_KPI_FIGURES)), strict=True))
    return Kpis(currency, **figures)


@dataclass(frozen=True)
class DayVolume:
    day: date
    gross: int
    count: int


def volume_by_day(
    db: Session, *, merchant_id: str, livemode: bool, currency: str, period: Period
) -> list[DayVolume]:
    """Captured volume per local day of the period, every day present (zeros included): one
    segment per local day, its midnights taken in the merchant's zone (23- and 25-hour days
    included)."""
    zone_ = zone(period.tz)
    days = period.day_list()
    midnights = [datetime.combine(d, time(), zone_) for d in days]
    sums = totals.segment_sums(
        db.connection(),
        totals.TOTALS,
        merchant_id=merchant_id,
        livemode=livemode,
        currencies=[currency],
        boundaries=_bounds(*midnights, period.end),
        figures=("gross", "captured"),
    )
    return [DayVolume(d, *sums.get((i,), [0, 0])) for i, d in enumerate(days)]


@dataclass(frozen=True)
class Slice:
    label: str
    count: int
    volume: int


def volume_by_method(
    db: Session, *, merchant_id: str, livemode: bool, currency: str, period: Period
) -> list[Slice]:
    """Captured payments per payment method; cards split by brand (Visa, Mastercard...)."""
    sums = totals.segment_sums(
        db.connection(),
        totals.METHODS,
        merchant_id=merchant_id,
        livemode=livemode,
        currencies=[currency],
        boundaries=_bounds(period.start, period.end),
        figures=("captured", "gross"),
        by=("method", "brand"),
    )
    slices: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_, method, brand), (n, amount) in sums.items():
        if n:
            label = method_label(method, brand)
            slices[label][0] += n
            slices[label][1] += amount
    return sorted(
        (Slice(label, n, amount) for label, (n, amount) in slices.items()),
        key=lambda s: (-s.volume, s.label),
    )


def method_label(method: str | None, brand: str | None, wallet: str | None = None) -> str:
    if method == "card" and brand and wallet:
        return f"{labels.wallet(wallet)} · {labels.card_brand(brand)}"
    if method == "card" and brand:
        return labels.card_brand(brand)
    if method == "paypal":
        return labels.gateway("paypal")
    if method == "bank":
        return "Bank account"
    return labels.words(method or "other")


def volume_by_currency(
    db: Session,
    *,
    merchant_id: str,
    livemode: bool,
    period: Period,
    currencies: list[str] | None = None,
) -> list[Slice]:
    """Captured payments per currency (volumes stay in their own currency: never summed).
    `currencies`: the merchant's, when the caller already has them (currencies_used)."""
    if currencies is None:
        currencies = currencies_used(db, merchant_id=merchant_id, livemode=livemode)
    sums = totals.segment_sums(
        db.connection(),
        totals.TOTALS,
        merchant_id=merchant_id,
        livemode=livemode,
        currencies=currencies,
        boundaries=_bounds(period.start, period.end),
        figures=("captured", "gross"),
        by=("currency",),
    )
    return sorted(
        (Slice(c, n, v) for (_, c), (n, v) in sums.items() if n),
        key=lambda s: (-s.count, s.label),
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
    """The currencies the merchant has payments in (any status), alphabetically."""
    return totals.currencies(db.connection(), merchant_id=merchant_id, livemode=livemode)


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
        by_currency=volume_by_currency(db, **scope, period=period, currencies=currencies),
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
