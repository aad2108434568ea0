"""Read models for the portal: the dashboard's figures and charts, the payments list, and what
one payment's page shows (timeline, webhook deliveries).

Every query is scoped to one merchant and one mode and leans on an index that ends in
created_at (backend/models/reporting_indexes.py), so the figures and the lists stay fast with
millions of payments: see bench/dashboard.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer, case, cast, func, or_, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend.core.currency import ISO_4217_EXPONENTS, format_money
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import (
    AuditLog,
    Dispute,
    DomainEvent,
    Payment,
    PaymentAttempt,
    Refund,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from backend.models.enums import PaymentStatus, RefundStatus, RiskDecision
from backend.models.reporting_indexes import FLAGGED
from backend.services import labels
from backend.services.reporting import audit_log

# Payments whose money was captured, whatever happened to it afterwards.
CAPTURED_STATUSES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.DISPUTED,
)
# A payment the customer's bank accepted: captured, or authorized and waiting for capture.
SUCCESSFUL_STATUSES = (*CAPTURED_STATUSES, PaymentStatus.AUTHORIZED)
RANGE_PRESETS = {"7d": 7, "30d": 30, "90d": 90}
MAX_RANGE_DAYS = 366
# Local days are assembled from 15-minute UTC buckets: every time zone in use today is a whole
# number of quarter hours from UTC, so a bucket never straddles a local midnight.
_BUCKET_SECONDS = 900

UNREVIEWED = "unreviewed"  # flagged for review, and nobody has closed the review yet
RISK_FILTERS = (*RiskDecision, UNREVIEWED)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """A half-open range of time [start, end) in UTC, made of whole days of one time zone."""

    start: datetime
    end: datetime
    first_day: date
    days: int
    tz: str

    @property
    def previous(self) -> Period:
        first = self.first_day - timedelta(days=self.days)
        return _local_days(first, self.days, self.tz)

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]


def _local_days(first: date, days: int, tz: str) -> Period:
    zone_ = zone(tz)
    start = datetime.combine(first, time(), zone_).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(), zone_).astimezone(UTC)
    return Period(start, end, first, days, tz)


def period_for(
    preset: str,
    tz: str,
    *,
    custom_from: date | None = None,
    custom_to: date | None = None,
    now: datetime | None = None,
) -> Period:
    """The last 7/30/90 days up to and including today in the merchant's time zone, or a
    custom range of whole local days (both ends included)."""
    if preset == "custom":
        if custom_from is None or custom_to is None:
            raise ValidationFailed("Choose both dates of the range", param="range")
        if custom_to < custom_from:
            raise ValidationFailed(
                "The range ends before it starts: choose a last day on or after the first.",
                param="range",
            )
        days = (custom_to - custom_from).days + 1
        if days > MAX_RANGE_DAYS:
            raise ValidationFailed(
                f"Choose a range of at most {MAX_RANGE_DAYS} days", param="range"
            )
        return _local_days(custom_from, days, tz)
    if preset not in RANGE_PRESETS:
        raise ValidationFailed(f"Unknown range {preset!r}", param="range")
    today = (now or utcnow()).astimezone(zone(tz)).date()
    days = RANGE_PRESETS[preset]
    return _local_days(today - timedelta(days=days - 1), days, tz)


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


# ---------------------------------------------------------------------------------------------
# Dashboard figures


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
    captured = col(Payment.status).in_(CAPTURED_STATUSES)
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
            col(Payment.status).in_(CAPTURED_STATUSES),
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
            col(Payment.status).in_(CAPTURED_STATUSES),
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
            col(Payment.status).in_(CAPTURED_STATUSES),
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


# ---------------------------------------------------------------------------------------------
# The payments list


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
    amount = _parse_amount(text)
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


def _filtered(merchant_id: str, livemode: bool, filters: PaymentFilters) -> Any:
    query = select(Payment).where(*_scope(Payment, merchant_id, livemode))
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
    base = _filtered(merchant_id, livemode, filters)
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


def _parse_amount(text: str) -> Decimal | None:
    cleaned = text.replace(",", "").lstrip("$€£¥")
    if len(cleaned) > 20:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        when, _, payment_id = cursor.partition("|")
        parsed = datetime.fromisoformat(when)
    except ValueError as exc:
        raise ValidationFailed("That page cursor is not valid", param="cursor") from exc
    if parsed.tzinfo is None or not payment_id:
        raise ValidationFailed("That page cursor is not valid", param="cursor")
    return parsed, payment_id


def local_day_bounds(
    first: date | None, last: date | None, tz: str
) -> tuple[datetime | None, datetime | None]:
    """[start of `first`, start of the day after `last`) in UTC, for a list's date filter."""
    zone_ = zone(tz)
    start = datetime.combine(first, time(), zone_).astimezone(UTC) if first else None
    end = (
        datetime.combine(last + timedelta(days=1), time(), zone_).astimezone(UTC) if last else None
    )
    if start and end and end <= start:
        raise ValidationFailed("The date range ends before it starts", param="created")
    return start, end


# ---------------------------------------------------------------------------------------------
# One payment: its timeline and the webhooks sent about it


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str = ""
    actor: str = ""


def _related_ids(db: Session, payment: Payment) -> list[str]:
    refund_ids = db.exec(select(Refund.id).where(Refund.payment_id == payment.id)).all()
    dispute_ids = db.exec(select(Dispute.id).where(Dispute.payment_id == payment.id)).all()
    return [payment.id, *refund_ids, *dispute_ids]


def payment_timeline(db: Session, payment: Payment, locale: str = "en_US") -> list[TimelineEntry]:
    """What happened to a payment, oldest first, in words: its creation, then the audit trail
    of it, its refunds and disputes (who did what, amounts as money), and every call made to a
    gateway for it."""
    ids = _related_ids(db, payment)
    rows = list(
        db.exec(
            select(AuditLog)
            .where(AuditLog.merchant_id == payment.merchant_id, col(AuditLog.object_id).in_(ids))
            .order_by(col(AuditLog.created_at))
            .limit(500)
        )
    )
    names = audit_log.actor_names(db, rows)
    entries = [
        TimelineEntry(
            row.created_at,
            labels.action(row.action),
            _audit_detail(row.details or {}, payment.currency, locale),
            audit_log.actor_name(row, names),
        )
        for row in rows
        if row.action != "payment.created"
    ]
    for attempt in db.exec(
        select(PaymentAttempt)
        .where(PaymentAttempt.payment_id == payment.id)
        .order_by(col(PaymentAttempt.created_at))
        .limit(200)
    ):
        outcome = labels.words(attempt.outcome) + (f" ({attempt.code})" if attempt.code else "")
        entries.append(
            TimelineEntry(
                attempt.created_at,
                labels.action(f"gateway.{attempt.operation}"),
                f"{labels.gateway(attempt.gateway)}: {outcome}, {attempt.latency_ms} ms",
                "PayPortal",
            )
        )
    # The creation comes first whatever else was recorded at the same instant.
    entries.sort(key=lambda e: e.at)
    created = TimelineEntry(
        payment.created_at,
        labels.action("payment.created"),
        format_money(payment.amount, payment.currency, locale),
    )
    return [created, *entries]


def _audit_detail(details: dict[str, Any], currency: str, locale: str) -> str:
    parts = []
    if isinstance(details.get("amount"), int):
        amount_currency = str(details.get("currency") or currency)
        parts.append(format_money(details["amount"], amount_currency, locale))
    if isinstance(details.get("status"), str):
        parts.append(labels.status(details["status"]))
    if details.get("code"):
        parts.append(labels.words(str(details["code"])))
    return " · ".join(parts)


@dataclass(frozen=True)
class EventDeliveries:
    event_id: str
    type: str
    created_at: datetime
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def payment_webhooks(db: Session, payment: Payment) -> list[EventDeliveries]:
    """The events emitted about a payment (and its refunds and disputes), newest first, each
    with its deliveries to the merchant's endpoints."""
    ids = _related_ids(db, payment)
    events = list(
        db.exec(
            select(DomainEvent)
            .where(
                DomainEvent.merchant_id == payment.merchant_id,
                col(DomainEvent.object_id).in_(ids),
            )
            .order_by(col(DomainEvent.created_at).desc())
            .limit(100)
        )
    )
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if events:
        rows = db.exec(
            select(WebhookDelivery, WebhookEndpoint.url)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
            .where(col(WebhookDelivery.event_id).in_([e.id for e in events]))
            .order_by(col(WebhookDelivery.created_at))
        )
        for delivery, url in rows:
            by_event[delivery.event_id].append(
                {
                    "id": delivery.id,
                    "url": url,
                    "status": delivery.status,
                    "attempts": delivery.attempts,
                    "last_status_code": delivery.last_status_code,
                    "last_error": delivery.last_error,
                    "delivered_at": delivery.delivered_at,
                    "next_attempt_at": delivery.next_attempt_at,
                }
            )
    return [EventDeliveries(e.id, e.type, e.created_at, by_event.get(e.id, [])) for e in events]
