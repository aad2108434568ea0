"""The portal's read models on SQLite and PostgreSQL: dashboard figures against hand-made
payments, local-day buckets, search alternatives, customers, exports in batches (statements
have their own tests, test_statements.py)."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.core.db import make_engine
from backend.core.errors import ValidationFailed
from backend.core.ids import new_id
from backend.models import Customer, Dispute, Merchant, Payment, Refund
from backend.services.context import Scope
from backend.services.customers import figures as customers
from backend.services.payments import state_machine, totals
from backend.services.payments.money_input import parse_money
from backend.services.reporting import dashboard, exports, payment_list, periods


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, db_engine: Engine) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield db_engine
        return
    url = request.getfixturevalue("_migrated_postgres")
    pg = make_engine(url)
    yield pg
    pg.dispose()


@pytest.fixture
def merchant(engine: Engine) -> str:
    merchant_id = new_id("mer")
    with Session(engine) as db:
        db.add(
            Merchant(
                id=merchant_id,
                name="Figures Shop",
                support_email="help@figures.test",
                timezone="America/New_York",
            )
        )
        db.commit()
    return merchant_id


def add_payment(
    db: Session,
    merchant_id: str,
    at: datetime,
    amount: int,
    *,
    status: str = "succeeded",
    currency: str = "USD",
    brand: str = "visa",
    email: str = "a@example.com",
    last4: str = "4242",
    customer_id: str | None = None,
) -> Payment:
    captured = amount if status in state_machine.CAPTURED else 0
    fee = captured * 3 // 100
    payment = Payment(
        id=new_id("pay"),
        merchant_id=merchant_id,
        status=status,
        currency=currency,
        amount=amount,
        amount_captured=captured,
        platform_fee=fee,
        gateway_fee=0,
        net_amount=captured - fee,
        card_brand=brand,
        card_last4=last4,
        customer_email=email,
        customer_id=customer_id,
        created_at=at,
        updated_at=at,
    )
    db.add(payment)
    return payment


NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def test_kpis_and_the_previous_period(engine: Engine, merchant: str) -> None:
    period = periods.period_for("7d", "America/New_York", now=NOW)
    assert period.days == 7 and period.first_day == date(2026, 3, 14)
    # Local midnight in New York (EDT since 8 March: UTC-4).
    assert period.start == datetime(2026, 3, 14, 4, 0, tzinfo=UTC)
    inside = period.start + timedelta(hours=1)
    before = period.previous.start + timedelta(hours=1)
    with Session(engine) as db:
        add_payment(db, merchant, inside, 10_000)
        add_payment(db, merchant, inside, 5_001)
        add_payment(db, merchant, inside, 7_000, status="failed")
        add_payment(db, merchant, inside, 9_999, currency="EUR")  # another currency
        add_payment(db, merchant, period.start - timedelta(seconds=1), 123)  # the day before
        add_payment(db, merchant, before, 20_000)
        disputed = add_payment(db, merchant, inside, 3_000, status="disputed")
        db.flush()
        db.add(
            Refund(
                id=new_id("re"),
                merchant_id=merchant,
                payment_id=disputed.id,
                amount=1_000,
                currency="USD",
                status="succeeded",
                created_at=inside,
            )
        )
        db.add(
            Dispute(
                id=new_id("dp"),
                merchant_id=merchant,
                payment_id=disputed.id,
                amount=3_000,
                currency="USD",
                created_at=inside,
            )
        )
        totals.rebuild(db, merchant)  # rows written directly, as the demo seed does
        db.commit()
        now = dashboard.kpis(
            db, merchant_id=merchant, livemode=False, currency="USD", period=period
        )
        prev = dashboard.kpis(
            db, merchant_id=merchant, livemode=False, currency="USD", period=period.previous
        )
    assert now.gross == 18_001 and now.successful == 3 and now.failed == 1
    assert now.fees == 300 + 150 + 90 and now.net == now.gross - now.fees
    assert now.refunded == 1_000 and now.refunds == 1
    assert now.disputed == 3_000 and now.disputes == 1
    assert now.success_rate == 0.75
    assert now.average_ticket == 6_000  # 18001 / 3 = 6000.33, half up to the cent
    assert prev.gross == 20_123 and prev.successful == 2
    assert dashboard.change(now.gross, prev.gross).ratio == pytest.approx(
        (18_001 - 20_123) / 20_123
    )


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (18_001, 20_123, dashboard.Change(ratio=(18_001 - 20_123) / 20_123)),
        (150, 100, dashboard.Change(ratio=0.5, up=True)),
        (0, 0, dashboard.Change(ratio=0.0)),
        (0, 500, dashboard.Change(ratio=-1.0)),
        # Nothing, or under 1% of now, before: "New", never "+20740%".
        (5, 0, dashboard.Change(new=True, up=True)),
        (2_075_000, 9_950, dashboard.Change(new=True, up=True)),
        (-5_000, 10, dashboard.Change(new=True)),  # net fell below zero from next to nothing
        # Exactly 1% of now is a figure to compare with: +9900%.
        (10_000, 100, dashboard.Change(ratio=99.0, up=True)),
        (None, 100, dashboard.Change()),  # e.g. no payments now: no average ticket
        (0.75, None, dashboard.Change(no_earlier_data=True)),  # no attempts before
    ],
)
def test_change_against_the_previous_period(
    current: float | None, previous: float | None, expected: dashboard.Change
) -> None:
    got = dashboard.change(current, previous)
    assert got.new == expected.new and got.up == expected.up
    assert got.no_earlier_data == expected.no_earlier_data
    assert got.ratio == (None if expected.ratio is None else pytest.approx(expected.ratio))


def test_change_labels_read_as_people_say_them() -> None:
    from portal.state.dashboard import change_label

    def label(current: float | None, previous: float | None, good: bool = True) -> tuple:
        shown = change_label(dashboard.change(current, previous), higher_is_good=good)
        return shown["delta"], shown["trend"]

    assert label(2_075_000, 9_950) == ("New", "good")  # was "+20,754.3% vs previous period"
    assert label(3, 0, good=False) == ("New", "bad")  # disputes where there were none
    assert label(150, 100) == ("+50.0% vs previous period", "good")
    assert label(1_234_500, 100_000) == ("+1,134.5% vs previous period", "good")
    assert label(80, 100, good=False) == ("\u221220.0% vs previous period", "good")
    assert label(100, 100) == ("No change", "flat")
    assert label(0, 0) == ("No change", "flat")
    assert label(0.9, None) == ("No earlier data", "flat")
    assert label(None, 5) == ("—", "flat")
    shown = change_label(dashboard.change(150, 100), higher_is_good=True, locale="de_DE")
    assert shown["delta"].startswith("+50,0%")  # the decimal comma of German


def test_volume_by_local_day_and_breakdowns(engine: Engine, merchant: str) -> None:
    period = periods.period_for("7d", "America/New_York", now=NOW)
    with Session(engine) as db:
        # 23:30 in New York on 15 March is 03:30 UTC on the 16th: it counts for the 15th.
        add_payment(db, merchant, datetime(2026, 3, 16, 3, 30, tzinfo=UTC), 1_000)
        add_payment(db, merchant, datetime(2026, 3, 16, 4, 30, tzinfo=UTC), 2_000)
        add_payment(db, merchant, datetime(2026, 3, 16, 4, 31, tzinfo=UTC), 500, brand="mastercard")
        add_payment(db, merchant, datetime(2026, 3, 17, 12, 0, tzinfo=UTC), 700, currency="JPY")
        db.flush()
        totals.rebuild(db, merchant)
        db.commit()
        days = dashboard.volume_by_day(
            db, merchant_id=merchant, livemode=False, currency="USD", period=period
        )
        methods = dashboard.volume_by_method(
            db, merchant_id=merchant, livemode=False, currency="USD", period=period
        )
        by_currency = dashboard.volume_by_currency(
            db, merchant_id=merchant, livemode=False, period=period
        )
    assert [d.day for d in days] == period.day_list()
    daily = {d.day: (d.gross, d.count) for d in days if d.count}
    assert daily == {date(2026, 3, 15): (1_000, 1), date(2026, 3, 16): (2_500, 2)}
    assert [(m.label, m.count, m.volume) for m in methods] == [
        ("Visa", 2, 3_000),
        ("Mastercard", 1, 500),
    ]
    assert [(c.label, c.count) for c in by_currency] == [("USD", 3), ("JPY", 1)]


def test_custom_ranges_are_checked() -> None:
    with pytest.raises(ValidationFailed):
        periods.period_for(
            "custom", "UTC", custom_from=date(2026, 3, 2), custom_to=date(2026, 3, 1)
        )
    with pytest.raises(ValidationFailed):
        periods.period_for(
            "custom", "UTC", custom_from=date(2024, 1, 1), custom_to=date(2026, 1, 1)
        )
    with pytest.raises(ValidationFailed):
        periods.period_for("1y", "UTC")
    one_day = periods.period_for(
        "custom", "Asia/Kolkata", custom_from=date(2026, 1, 5), custom_to=date(2026, 1, 5)
    )
    assert one_day.start == datetime(2026, 1, 4, 18, 30, tzinfo=UTC) and one_day.days == 1


def test_search_merges_alternatives_in_order_with_pages(engine: Engine, merchant: str) -> None:
    base = NOW - timedelta(days=1)
    with Session(engine) as db:
        by_last4 = [
            add_payment(db, merchant, base + timedelta(minutes=i), 999, last4="1234")
            for i in range(5)
        ]
        by_amount = [
            add_payment(db, merchant, base + timedelta(minutes=i, seconds=30), 1_234)
            for i in range(5)
        ]
        yen = add_payment(db, merchant, base, 1_234, currency="JPY")
        add_payment(db, merchant, base, 12_340)  # $123.40 is not 12.34 nor 1234
        db.commit()
        seen, cursor = [], None
        while True:
            page = payment_list.search_payments(
                db,
                merchant_id=merchant,
                livemode=False,
                filters=payment_list.PaymentFilters(query="1234"),
                cursor=cursor,
                limit=3,
            )
            seen += page.payments
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        # "1234" is a last four, and 1234 yen; not $12.34 (that is typed "12.34").
        assert {p.id for p in seen} == {p.id for p in by_last4} | {yen.id}
        keys = [(p.created_at, p.id) for p in seen]
        assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
        typed = payment_list.search_payments(
            db,
            merchant_id=merchant,
            livemode=False,
            filters=payment_list.PaymentFilters(query="12.34"),
        )
        assert {p.id for p in typed.payments} == {p.id for p in by_amount}


def test_customers_lifetime_value_and_methods(engine: Engine, merchant: str) -> None:
    with Session(engine) as db:
        customer = Customer(id=new_id("cus"), merchant_id=merchant, email="zed@example.com")
        other = Customer(id=new_id("cus"), merchant_id=merchant, email="amy@example.com")
        db.add(customer)
        db.add(other)
        db.flush()
        add_payment(db, merchant, NOW, 1_000, customer_id=customer.id, last4="4242")
        add_payment(db, merchant, NOW, 2_000, customer_id=customer.id, last4="4242")
        add_payment(db, merchant, NOW, 900, customer_id=customer.id, currency="EUR", last4="1881")
        add_payment(db, merchant, NOW, 5_000, customer_id=customer.id, status="failed")
        db.commit()
        page = customers.list_customers(db, merchant_id=merchant, livemode=False, query="ZED")
        assert [s.customer.id for s in page.customers] == [customer.id]
        summary = page.customers[0]
        assert summary.payments == 4
        assert summary.lifetime_value == {"EUR": 900, "USD": 3_000}
        detail = customers.get_customer(
            db, merchant_id=merchant, livemode=False, customer_id=customer.id
        )
        assert sorted((m.last4, m.payments) for m in detail.cards_used) == [
            ("1881", 1),
            ("4242", 3),
        ]
        with pytest.raises(Exception, match="No such customer"):
            customers.get_customer(
                db, merchant_id="mer_other", livemode=False, customer_id=customer.id
            )


def test_csv_export_streams_in_batches(engine: Engine, merchant: str) -> None:
    with Session(engine) as db:
        for i in range(250):
            add_payment(db, merchant, NOW - timedelta(minutes=i), 100 + i, email=f"=cmd{i}@x.test")
        db.commit()
    statements_seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "payments" in statement:
            statements_seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        chunks = exports.payments_csv(
            Scope(merchant, False),
            payment_list.PaymentFilters(),
            tz="UTC",
            batch_size=100,
            engine=engine,
        )
        header = next(chunks)
        assert statements_seen == []  # nothing is read before the client asks for rows
        first_batch = next(chunks)
        assert len(statements_seen) == 1
        rest = "".join(chunks)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements_seen) == 3  # 100 + 100 + 50 rows: one query per batch
    rows = list(csv.reader(io.StringIO(header.lstrip("\ufeff") + first_batch + rest)))
    assert rows[0][:5] == ["id", "created_at", "status", "currency", "amount"]
    assert len(rows) == 251
    assert rows[1][4] == "1.00" and rows[-1][4] == "3.49"
    assert all(r[10].startswith("'=") for r in rows[1:])  # no formula reaches a spreadsheet


def test_csv_memory_stays_flat(engine: Engine, merchant: str) -> None:
    """Peak memory while exporting 3,000 rows is about that of 600: batches, not the list."""
    with Session(engine) as db:
        for i in range(3_000):
            add_payment(db, merchant, NOW - timedelta(seconds=i), 100 + i)
        db.commit()

    def peak(filters: payment_list.PaymentFilters) -> int:
        tracemalloc.start()
        for _ in exports.payments_csv(
            Scope(merchant, False), filters, tz="UTC", batch_size=200, engine=engine
        ):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small = peak(payment_list.PaymentFilters(created_from=NOW - timedelta(seconds=600)))
    large = peak(payment_list.PaymentFilters())
    assert large < small * 2


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("12.50", "USD", "en_US", 1250),
        ("1,234.56", "USD", "en_US", 123456),
        ("1.234,56", "EUR", "de_DE", 123456),
        ("12.50", "EUR", "de_DE", 1250),
        ("500", "JPY", "ja_JP", 500),
        ("1.005", "KWD", "en_US", 1005),
    ],
)
def test_money_typed_by_people(text: str, currency: str, locale: str, minor: int) -> None:
    assert parse_money(text, currency, locale) == minor


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "12.345", "1e400", "NaN", "12" * 30])
def test_money_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_money(text, "USD")
