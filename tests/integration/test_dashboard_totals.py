"""The dashboard's running totals against the raw rows, on SQLite and PostgreSQL.

Random histories go through the booking path itself (new payments in NewRows, then captures,
voids, refunds booked, confirmed and reversed, disputes opened and closed, with flushes and
commits in between); afterwards every dashboard figure, read from the totals, must equal the
same figure computed from the payments, refunds and disputes as the dashboard computed them
before the totals existed (the oracle below is that code), for periods in time zones a whole,
half and quarter hour off UTC, with and without daylight saving time. And the totals kept
incrementally must be the rows totals.rebuild computes from scratch.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, case, cast, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.core.db import make_engine, new_instance
from backend.core.ids import new_id
from backend.models import Dispute, Payment, Refund, utcnow
from backend.models.enums import DisputeStatus, PaymentStatus, RefundStatus
from backend.services.context import SYSTEM
from backend.services.identity import accounts
from backend.services.payments import booking, totals
from backend.services.payments.fees import STRIPE_DEFAULT
from backend.services.payments.new_rows import NewRows
from backend.services.payments.state_machine import CAPTURED
from backend.services.reporting import dashboard, periods

P = PaymentStatus
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]
CURRENCIES = ["USD", "EUR", "JPY"]
METHODS = [("card", "visa"), ("card", "mastercard"), ("card", None), ("sepa_debit", None)]
DAYS_BACK = 100


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, db_engine: Engine) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield db_engine
        return
    pg = make_engine(request.getfixturevalue("_migrated_postgres"))
    yield pg
    pg.dispose()


# ---------------------------------------------------------------------------------------------
# The oracle: the dashboard's queries on the raw rows, as they were before the totals.


def _scope(model: Any, merchant_id: str) -> list[Any]:
    return [model.merchant_id == merchant_id, model.livemode == False]  # noqa: E712


def raw_kpis(db: Session, merchant_id: str, currency: str, period: periods.Period) -> tuple:
    captured = col(Payment.status).in_(CAPTURED)
    row = db.exec(
        select(
            func.coalesce(func.sum(case((captured, Payment.amount_captured), else_=0)), 0),
            func.coalesce(func.sum(case((captured, Payment.net_amount), else_=0)), 0),
            func.coalesce(
                func.sum(case((captured, Payment.platform_fee + Payment.gateway_fee), else_=0)), 0
            ),
            func.count().filter(col(Payment.status).in_(dashboard.SUCCESSFUL_STATUSES)),
            func.count().filter(Payment.status == PaymentStatus.FAILED),
        ).where(
            *_scope(Payment, merchant_id),
            Payment.currency == currency,
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
    ).one()
    refunds = db.exec(
        select(func.coalesce(func.sum(Refund.amount), 0), func.count()).where(
            *_scope(Refund, merchant_id),
            Refund.currency == currency,
            col(Refund.status).in_((RefundStatus.SUCCEEDED, RefundStatus.PENDING)),
            Refund.created_at >= period.start,
            Refund.created_at < period.end,
        )
    ).one()
    disputes = db.exec(
        select(func.coalesce(func.sum(Dispute.amount), 0), func.count()).where(
            *_scope(Dispute, merchant_id),
            Dispute.currency == currency,
            Dispute.created_at >= period.start,
            Dispute.created_at < period.end,
        )
    ).one()
    return (*(int(v) for v in row), int(refunds[0]), int(refunds[1]), int(disputes[0]),
            int(disputes[1]))  # fmt: skip


def raw_by_day(db: Session, merchant_id: str, currency: str, period: periods.Period) -> list:
    if db.get_bind().dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", Payment.created_at), Integer)
    else:
        seconds = cast(func.floor(func.extract("epoch", Payment.created_at)), Integer)
    bucket = cast(func.floor(seconds / 900), Integer).label("bucket")
    rows = db.exec(
        select(bucket, func.sum(Payment.amount_captured), func.count())
        .where(
            *_scope(Payment, merchant_id),
            Payment.currency == currency,
            col(Payment.status).in_(CAPTURED),
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
        .group_by(bucket)
    )
    zone_ = periods.zone(period.tz)
    gross: dict[date, int] = defaultdict(int)
    count: dict[date, int] = defaultdict(int)
    for quarter, amount, n in rows:
        day = datetime.fromtimestamp(int(quarter) * 900, UTC).astimezone(zone_).date()
        gross[day] += int(amount or 0)
        count[day] += int(n)
    return [(d, gross[d], count[d]) for d in period.day_list()]


def raw_by_method(db: Session, merchant_id: str, currency: str, period: periods.Period) -> list:
    rows = db.exec(
        select(
            Payment.payment_method_type,
            Payment.card_brand,
            func.count(),
            func.sum(Payment.amount_captured),
        )
        .where(
            *_scope(Payment, merchant_id),
            Payment.currency == currency,
            col(Payment.status).in_(CAPTURED),
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
        .group_by(Payment.payment_method_type, Payment.card_brand)
    )
    slices: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for method, brand, n, amount in rows:
        label = dashboard.method_label(method, brand)
        slices[label][0] += int(n)
        slices[label][1] += int(amount or 0)
    return sorted(
        ((label, n, amount) for label, (n, amount) in slices.items()),
        key=lambda s: (-s[2], s[0]),
    )


def raw_by_currency(db: Session, merchant_id: str, period: periods.Period) -> list:
    rows = db.exec(
        select(Payment.currency, func.count(), func.sum(Payment.amount_captured))
        .where(
            *_scope(Payment, merchant_id),
            col(Payment.status).in_(CAPTURED),
            Payment.created_at >= period.start,
            Payment.created_at < period.end,
        )
        .group_by(Payment.currency)
    )
    return sorted(((c, int(n), int(v or 0)) for c, n, v in rows), key=lambda s: (-s[1], s[0]))


def raw_currencies(db: Session, merchant_id: str) -> list[str]:
    return sorted(
        db.exec(select(Payment.currency).where(*_scope(Payment, merchant_id)).distinct()).all()
    )


# ---------------------------------------------------------------------------------------------
# Random histories through the booking path

new_payments = st.lists(
    st.tuples(
        st.floats(0, DAYS_BACK * 86_400),  # seconds before now
        st.sampled_from(["none", "requires_action", "fail", "authorize", "capture", "capture"]),
        st.sampled_from(CURRENCIES),
        st.sampled_from(METHODS),
        st.integers(1, 100_000),
        st.integers(1, 3),  # payments written together in one NewRows (a group-commit batch)
    ),
    min_size=1,
    max_size=12,
)
operations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "capture",
                "void",
                "late_success",
                "refund",
                "refund_pending",
                "refund_refused",
                "confirm",
                "reverse",
                "dispute",
                "close_won",
                "close_lost",
                "flush",
                "commit",
            ]
        ),
        st.integers(0, 1_000),  # which payment (or refund, dispute), modulo their number
        st.integers(1, 1_000),  # share of what remains, in thousandths
        st.floats(0, DAYS_BACK * 86_400),  # a refund's created_at, seconds before now
    ),
    min_size=3,
    max_size=30,
)


def play(db: Session, merchant_id: str, now: datetime, plan: list, ops: list) -> None:  # type: ignore[type-arg]
    platform = booking.platform_fees(db, merchant_id)
    payments: list[Payment] = []
    rows = NewRows()
    for back, outcome, currency, (method, brand), amount, batch in plan:
        at = now - timedelta(seconds=back)
        payment = new_instance(
            Payment,
            id=new_id("pay"),
            merchant_id=merchant_id,
            livemode=False,
            currency=currency,
            amount=amount,
            gateway="sandbox",
            payment_method_type=method,
            card_brand=brand,
            created_at=at,
            updated_at=at,
        )
        rows.payments.append(payment)
        if outcome == "requires_action":
            booking.require_action(db, payment, platform, STRIPE_DEFAULT, SYSTEM, rows)
        elif outcome == "fail":
            booking.fail(db, payment, "card_declined", "Declined", SYSTEM, rows)
        elif outcome == "authorize":
            booking.authorize(db, payment, amount, platform, STRIPE_DEFAULT, SYSTEM, at, rows)
        elif outcome == "capture":
            booking.capture(db, None, payment, amount, platform, STRIPE_DEFAULT, SYSTEM, at, rows)
        payments.append(payment)
        if len(rows.payments) >= batch:
            rows.write(db)
            rows = NewRows()
    rows.write(db)

    refunds: list[Refund] = []
    disputes: list[Dispute] = []
    eligible = {
        "capture": (P.AUTHORIZED,),
        "void": (P.AUTHORIZED, P.REQUIRES_ACTION),
        "late_success": (P.FAILED,),
        "refund": (P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.DISPUTED),
        "dispute": (P.SUCCEEDED, P.PARTIALLY_REFUNDED),
    }
    for kind, which, share, back in ops:
        # Each operation picks among the payments it can apply to.
        wanted = eligible.get(kind.removesuffix("_pending").removesuffix("_refused"), ())
        candidates = [p for p in payments if p.status in wanted] or payments
        payment = candidates[which % len(candidates)]
        remaining = payment.amount_captured - payment.amount_refunded
        part = max(1, remaining * share // 1000)
        if kind == "capture" and payment.status == P.AUTHORIZED:
            booking.capture(
                db, None, payment, payment.amount, platform, STRIPE_DEFAULT, SYSTEM, utcnow()
            )
        elif kind == "void" and payment.status in (P.AUTHORIZED, P.REQUIRES_ACTION):
            booking.void(db, payment, SYSTEM, utcnow())
        elif kind == "late_success" and payment.status == P.FAILED:
            booking.capture(
                db, None, payment, payment.amount, platform, STRIPE_DEFAULT, SYSTEM, utcnow()
            )
        elif (
            kind in ("refund", "refund_pending", "refund_refused")
            and payment.status in (P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.DISPUTED)
            and remaining > 0
        ):
            record = booking.new_refund(payment, part, reason=None)
            record.created_at = now - timedelta(seconds=back)
            db.add(record)
            db.flush()  # as operations.refund does before it calls the processor
            if kind == "refund_refused":
                booking.record_unbooked_refund(
                    db, payment, record, RefundStatus.FAILED, "refused", SYSTEM
                )
            else:
                booking.book_refund(db, payment, record, SYSTEM, pending=kind == "refund_pending")
            refunds.append(record)
        elif kind == "confirm" and refunds:
            record = refunds[which % len(refunds)]
            if record.status == RefundStatus.PENDING:
                booking.confirm_refund(db, db.get(Payment, record.payment_id), record, SYSTEM)
        elif kind == "reverse" and refunds:
            record = refunds[which % len(refunds)]
            if record.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED):
                owner = db.get(Payment, record.payment_id)
                booking.reverse_refund(db, owner, record, RefundStatus.FAILED, None, SYSTEM)
        elif kind == "dispute" and payment.status in (P.SUCCEEDED, P.PARTIALLY_REFUNDED):
            disputes.append(booking.open_dispute(db, payment))
        elif kind in ("close_won", "close_lost") and disputes:
            dispute = disputes[which % len(disputes)]
            if dispute.status == DisputeStatus.NEEDS_RESPONSE:
                booking.close_dispute(db, dispute, won=kind == "close_won")
        elif kind == "flush":
            db.flush()
        elif kind == "commit":
            db.commit()
    db.commit()


def totals_rows(db: Session, merchant_id: str) -> dict[str, set[tuple[Any, ...]]]:
    """Every non-zero totals row of the merchant (a refund booked then reversed leaves zeros)."""
    found = {}
    for table, figures in (
        (totals.TOTALS, totals.FIGURES),
        (totals.METHODS, totals.METHOD_FIGURES),
    ):
        rows = db.connection().execute(sa.select(table).where(table.c.merchant_id == merchant_id))
        found[table.name] = {tuple(r) for r in rows if any(getattr(r, f) for f in figures)}
    return found


def check_figures(db: Session, merchant_id: str, now: datetime, zone: str, days: int) -> None:
    scope = {"merchant_id": merchant_id, "livemode": False}
    assert dashboard.currencies_used(db, **scope) == raw_currencies(db, merchant_id)
    preset = {7: "7d", 30: "30d", 90: "90d"}.get(days, "custom")
    if preset == "custom":
        last = now.astimezone(periods.zone(zone)).date()
        period = periods.period_for(
            "custom", zone, custom_from=last - timedelta(days=days - 1), custom_to=last
        )
    else:
        period = periods.period_for(preset, zone, now=now)
    for p in (period, period.previous):
        for currency in CURRENCIES:
            got = dashboard.kpis(db, **scope, currency=currency, period=p)
            assert (
                got.gross,
                got.net,
                got.fees,
                got.successful,
                got.failed,
                got.refunded,
                got.refunds,
                got.disputed,
                got.disputes,
            ) == raw_kpis(db, merchant_id, currency, p)
            days_got = dashboard.volume_by_day(db, **scope, currency=currency, period=p)
            assert [(d.day, d.gross, d.count) for d in days_got] == raw_by_day(
                db, merchant_id, currency, p
            )
            methods = dashboard.volume_by_method(db, **scope, currency=currency, period=p)
            assert [(m.label, m.count, m.volume) for m in methods] == raw_by_method(
                db, merchant_id, currency, p
            )
        by_currency = dashboard.volume_by_currency(db, **scope, period=p)
        assert [(s.label, s.count, s.volume) for s in by_currency] == raw_by_currency(
            db, merchant_id, p
        )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=new_payments,
    ops=operations,
    zone=st.sampled_from(ZONES),
    days=st.sampled_from([1, 7, 30, 90, 45]),
)
def test_totals_equal_the_raw_figures(
    engine: Engine, plan: list, ops: list, zone: str, days: int
) -> None:  # type: ignore[type-arg]
    now = utcnow()
    with Session(engine) as db:
        created = accounts.create_merchant(
            db, email=f"t-{uuid.uuid4().hex[:10]}@shop.test", password="a long passphrase 1"
        )
        merchant_id = created.merchant.id
        db.commit()
        play(db, merchant_id, now, plan, ops)
        check_figures(db, merchant_id, now, zone, days)
        kept = totals_rows(db, merchant_id)
        totals.rebuild(db, merchant_id, False)
        assert totals_rows(db, merchant_id) == kept  # incremental == from scratch
        totals.rebuild(db, merchant_id)  # idempotent
        assert totals_rows(db, merchant_id) == kept
        db.rollback()


def test_segments_cover_each_quarter_once() -> None:
    """Whatever the boundaries, the levels' cells partition the range, each inside one
    segment (a check of the cell plan alone, without a database)."""
    import random

    rng = random.Random(7)
    base = 1_767_225_600  # 2026-01-01 00:00 UTC
    for _ in range(300):
        points = sorted({base + rng.randrange(0, 6 * 96) * 900 for _ in range(rng.randint(2, 6))})
        if len(points) < 2:
            continue
        covered = totals.plan_cells(points)
        seen: dict[int, int] = {}
        for span, start in covered:
            segment = totals.segment_of(points, start)
            assert totals.segment_of(points, start + span - 1) == segment
            for q in range(start, start + span, 900):
                assert q not in seen
                seen[q] = segment
        assert sorted(seen) == list(range(points[0], points[-1], 900))
