"""Monthly statements read from the ledger, over a history booked through the real booking path
across four months (captures, a refund in a later month, a refund that fails, a dispute opened
and won a month later, payouts paid and canceled) in a time zone behind UTC.

Each month adds up (opening + lines = closing), months chain (October's closing is November's
opening), the figures equal plain sums over balance_transactions, and the CSV's summary and
items agree."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlalchemy.sql.selectable import CompoundSelect
from sqlmodel import Session, col, func, select

from backend.core.errors import ValidationFailed
from backend.core.ids import new_id
from backend.models import Balance, BalanceTransaction, Payment, Payout
from backend.models.enums import RefundStatus
from backend.models.ledger import PLATFORM
from backend.services import labels
from backend.services.context import SYSTEM, Scope
from backend.services.identity import accounts
from backend.services.ledger import availability
from backend.services.payments import booking
from backend.services.payments.fees import STRIPE_DEFAULT, FeeSchedule
from backend.services.reporting import statements

PLATFORM_FEES = FeeSchedule(29_000, {"USD": 30, "EUR": 25})
TZ = "America/New_York"
MONTHS = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
AFTER = datetime(2027, 1, 5, tzinfo=UTC)  # every month of the history is over


@dataclass
class History:
    merchant_id: str
    late_refund: str  # the refund issued in November for an October payment
    evening: str  # the payment of 31 October, 23:30 New York time (1 November in UTC)


def _at(when: datetime) -> time_machine.travel:
    return time_machine.travel(when, tick=False)


def _charge(
    db: Session, merchant_id: str, amount: int, currency: str, at: datetime, **fields: object
) -> Payment:
    with _at(at):
        payment = Payment(
            id=new_id("pay"),
            merchant_id=merchant_id,
            livemode=False,
            currency=currency,
            amount=amount,
            gateway="sandbox",
            card_last4=availability.INSTANT_TEST_CARD_LAST4,
            **fields,
        )  # type: ignore[call-arg]
        db.add(payment)
        db.flush()
        booking.capture(db, None, payment, amount, PLATFORM_FEES, STRIPE_DEFAULT, SYSTEM, at)
        db.flush()
    return payment


def _refund(db: Session, payment: Payment, amount: int, at: datetime, *, pending: bool = False):
    with _at(at):
        refund = booking.new_refund(payment, amount, reason=None)
        db.add(refund)
        db.flush()
        booking.book_refund(db, payment, refund, SYSTEM, pending=pending)
        db.flush()
    return refund


def _payout(db: Session, merchant_id: str, currency: str, at: datetime) -> Payout:
    with _at(at):
        row = db.get(Balance, (merchant_id, False, currency, PLATFORM))
        assert row is not None
        db.refresh(row)
        payout = Payout(
            id=new_id("po"),
            merchant_id=merchant_id,
            amount=row.available // 2,
            currency=currency,
            rail="sandbox",
        )  # type: ignore[call-arg]
        booking.create_payout(db, payout, SYSTEM)
        db.flush()
    return payout


def build_history(db: Session) -> History:
    created = accounts.create_merchant(
        db, email=f"s-{uuid.uuid4().hex[:8]}@shop.test", password="a long passphrase 1"
    )
    merchant = created.merchant
    merchant.timezone = TZ
    db.add(merchant)
    m = merchant.id
    september = _charge(db, m, 10_000, "USD", datetime(2026, 9, 10, 15, tzinfo=UTC))
    _charge(db, m, 5_000, "EUR", datetime(2026, 9, 11, 15, tzinfo=UTC))
    october = _charge(
        db,
        m,
        20_000,
        "USD",
        datetime(2026, 10, 5, 15, tzinfo=UTC),
        description="=HYPERLINK(evil)",
    )
    # 23:30 on 31 October in New York: already November in UTC, still October for the merchant.
    evening = _charge(db, m, 3_000, "USD", datetime(2026, 11, 1, 3, 30, tzinfo=UTC))
    paid = _payout(db, m, "USD", datetime(2026, 10, 20, 15, tzinfo=UTC))
    with _at(datetime(2026, 10, 22, tzinfo=UTC)):
        booking.payout_paid(db, paid, SYSTEM)
    late = _refund(db, october, 4_000, datetime(2026, 11, 3, 15, tzinfo=UTC))
    with _at(datetime(2026, 11, 10, 15, tzinfo=UTC)):
        dispute = booking.open_dispute(db, september)
        db.flush()
    failing = _refund(db, evening, 1_000, datetime(2026, 11, 12, 15, tzinfo=UTC), pending=True)
    with _at(datetime(2026, 12, 2, 15, tzinfo=UTC)):
        booking.close_dispute(db, dispute, won=True)
        booking.reverse_refund(db, evening, failing, RefundStatus.FAILED, "lost", SYSTEM)
        db.flush()
    canceled = _payout(db, m, "USD", datetime(2026, 12, 15, 15, tzinfo=UTC))
    with _at(datetime(2026, 12, 16, tzinfo=UTC)):
        booking.cancel_payout(db, canceled, SYSTEM)
    _charge(db, m, 7_000, "EUR", datetime(2026, 12, 20, 15, tzinfo=UTC))
    db.commit()
    return History(m, late.id, evening.id)


@pytest.fixture
def history(db: Session) -> History:
    return build_history(db)


def _direct(db: Session, merchant_id: str, currency: str, before: datetime) -> int:
    return int(
        db.exec(
            select(func.sum(BalanceTransaction.net)).where(
                BalanceTransaction.merchant_id == merchant_id,
                BalanceTransaction.currency == currency,
                col(BalanceTransaction.created_at) < before,
            )
        ).one()
        or 0
    )


def _by_currency(statement: statements.Statement) -> dict[str, statements.CurrencyStatement]:
    return {cs.currency: cs for cs in statement.currencies}


def test_every_month_adds_up_chains_and_equals_the_ledger(db: Session, history: History) -> None:
    m = history.merchant_id
    built = [statements.build(db, m, False, month, now=AFTER) for month in MONTHS]
    previous: dict[str, int] = {"USD": 0, "EUR": 0}
    for statement in built:
        assert statement.complete
        start, end = statement.period.start, statement.period.end
        for currency in ("USD", "EUR"):
            cs = _by_currency(statement).get(currency)
            opening = cs.opening if cs else 0
            closing = cs.closing if cs else 0
            assert opening == previous[currency]  # the previous month's closing
            assert opening == _direct(db, m, currency, start)
            assert closing == _direct(db, m, currency, end)
            if cs is not None:
                assert cs.opening + sum(line.net for line in cs.lines) == cs.closing
            previous[currency] = closing
        # Each line is the plain sum of the month's transactions of its type.
        rows = db.exec(
            select(
                BalanceTransaction.currency,
                BalanceTransaction.type,
                func.count(),
                func.sum(BalanceTransaction.amount),
                func.sum(BalanceTransaction.net),
            )
            .where(
                BalanceTransaction.merchant_id == m,
                col(BalanceTransaction.created_at) >= start,
                col(BalanceTransaction.created_at) < end,
            )
            .group_by(BalanceTransaction.currency, BalanceTransaction.type)
        ).all()
        expected = {(c, t): (n, a, net) for c, t, n, a, net in rows}
        got = {
            (cs.currency, line.type): (line.count, line.amount, line.net)
            for cs in statement.currencies
            for line in cs.lines
        }
        assert got == expected
    # Today's balance is December's closing.
    usd = db.get(Balance, (m, False, "USD", PLATFORM))
    assert usd is not None
    db.refresh(usd)
    assert _by_currency(built[-1])["USD"].closing == usd.available + usd.pending


def test_lines_are_in_a_readers_order_with_words(db: Session, history: History) -> None:
    november = statements.build(db, history.merchant_id, False, MONTHS[2], now=AFTER)
    usd = _by_currency(november)["USD"]
    assert [line.label for line in usd.lines] == [
        "Platform fees",  # the platform fee handed back by the refunds
        "Refunds",
        "Disputes",
        "Dispute fees",
    ]
    october = _by_currency(statements.build(db, history.merchant_id, False, MONTHS[1], now=AFTER))
    assert [line.label for line in october["USD"].lines] == [
        "Charges",
        "Processor fees",
        "Platform fees",
        "Payouts",
    ]
    assert october["USD"].successful_payments == 2  # the evening payment is October's


def test_a_later_refund_lands_in_its_own_month(db: Session, history: History) -> None:
    refund = db.exec(
        select(BalanceTransaction).where(BalanceTransaction.source_id == history.late_refund)
    ).first()
    assert refund is not None
    by_month = {
        month: _by_currency(statements.build(db, history.merchant_id, False, month, now=AFTER))
        for month in MONTHS
    }
    refunds = {
        month: sum(line.amount for line in cs["USD"].lines if line.type == "refund")
        for month, cs in by_month.items()
        if "USD" in cs
    }
    # The October payment's 40.00 refund (and the pending 10.00 that failed) are November's.
    assert refunds == {MONTHS[0]: 0, MONTHS[1]: 0, MONTHS[2]: -5_000, MONTHS[3]: 0}
    assert any(line.type == "refund_failure" for line in by_month[MONTHS[3]]["USD"].lines)


def test_the_month_runs_to_now_and_a_future_month_is_empty(db: Session, history: History) -> None:
    m = history.merchant_id
    mid_december = datetime(2026, 12, 18, tzinfo=UTC)
    running = statements.build(db, m, False, MONTHS[3], now=mid_december)
    assert not running.complete
    usd = _by_currency(running)["USD"]
    assert usd.closing == _direct(db, m, "USD", mid_december)
    future = statements.build(db, m, False, date(2027, 3, 1), now=AFTER)
    assert [(cs.currency, cs.lines) for cs in future.currencies] == [("EUR", ()), ("USD", ())]
    assert all(cs.opening == cs.closing for cs in future.currencies)


def test_recent_months_match_the_statements(db: Session, history: History) -> None:
    m = history.merchant_id
    months = statements.recent_months(db, m, False, TZ, now=datetime(2026, 12, 31, tzinfo=UTC))
    assert [s.month for s in months] == MONTHS[::-1]
    assert months[0].complete is False and months[1].complete is True
    for summary in months:
        statement = statements.build(db, m, False, summary.month, now=AFTER)
        expected = {
            cs.currency: (cs.opening, cs.closing) for cs in statement.currencies if cs.lines
        }
        assert {c.currency: (c.opening, c.closing) for c in summary.currencies} == expected
    # A year later, the history is out of the window.
    assert statements.recent_months(db, m, False, TZ, now=datetime(2028, 1, 1, tzinfo=UTC)) == []


def test_pdf_renders_the_table(db: Session, history: History) -> None:
    statement = statements.build(db, history.merchant_id, False, MONTHS[2], now=AFTER)
    pdf = statements.render_pdf(statement)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
    empty = statements.build(db, history.merchant_id, False, date(2026, 1, 1), now=AFTER)
    assert empty.currencies == []
    assert statements.render_pdf(empty).startswith(b"%PDF-")


def _read_csv(chunks: Iterator[str]) -> tuple[list[list[str]], list[list[str]]]:
    text = "".join(chunks)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    blank = rows.index([])
    return rows[:blank], rows[blank + 1 :]


def test_csv_summary_and_items_agree(db_engine: Engine, db: Session, history: History) -> None:
    scope = Scope(history.merchant_id, False)
    summary, items = _read_csv(
        statements.statement_csv(scope, MONTHS[1], batch_size=2, engine=db_engine, now=AFTER)
    )
    assert summary[0] == list(statements.SUMMARY_COLUMNS)
    assert items[0] == list(statements.ITEM_COLUMNS)
    sums: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0])
    for row in items[1:]:
        item = dict(zip(statements.ITEM_COLUMNS, row, strict=True))
        sums[(item["currency"], item["type"])][0] += 1
        sums[(item["currency"], item["type"])][1] += Decimal(item["net"])
    singular = {labels.balance_line(t): labels.balance_type(t) for t in labels.BALANCE_TYPE_LINES}
    opening = closing = None
    lines_net = Decimal(0)
    for row in summary[1:]:
        line = dict(zip(statements.SUMMARY_COLUMNS, row, strict=True))
        if line["line"] == statements.OPENING:
            opening = Decimal(line["net"])
        elif line["line"] == statements.CLOSING:
            closing = Decimal(line["net"])
        else:
            count, net = sums.pop((line["currency"], singular[line["line"]]))
            assert (count, net) == (int(line["count"]), Decimal(line["net"]))
            lines_net += Decimal(line["net"])
    assert sums == {}  # every item is in a summary line
    assert opening is not None and closing is not None and opening + lines_net == closing
    assert Decimal(closing) == Decimal(
        _direct(db, history.merchant_id, "USD", statements.month_period(MONTHS[1], TZ).end)
    ).scaleb(-2)
    descriptions = [row[3] for row in items[1:]]
    assert "'=HYPERLINK(evil)" in descriptions  # no formula reaches a spreadsheet
    assert "Processor fee" in [row[2] for row in items[1:]]
    evening = [row for row in items[1:] if row[4] == history.evening and row[2] == "Charge"]
    assert evening[0][1].startswith("2026-10-31T23:30:00")  # the merchant's time zone
    assert evening[0][9] == "Available"


def test_month_text_is_checked() -> None:
    for bad in ("2026-13", "2026", "2026-11-01", "11-2026x", "1999-12", ""):
        with pytest.raises(ValidationFailed):
            statements.parse_month(bad)
    assert statements.parse_month("2026-02") == date(2026, 2, 1)


def test_a_statement_that_does_not_add_up_is_refused(
    db: Session, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the ledger's own sum at the month's end to differ from opening + lines (a bug),
    no statement is made."""
    real = db.execute

    def skewed(statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not isinstance(statement, CompoundSelect):  # the merchant's row, the counts
            return real(statement, *args, **kwargs)
        rows = real(statement, *args, **kwargs).all()
        off = [(*r[:7], r[7] + 1) if r[3] == statements.CHECK_BUCKET else r for r in rows]
        return SimpleNamespace(all=lambda: off)

    monkeypatch.setattr(db, "execute", skewed)
    with pytest.raises(statements.StatementMismatch):
        statements.build(db, history.merchant_id, False, MONTHS[1], now=AFTER)


@pytest.mark.postgres
def test_the_same_figures_on_postgresql(_migrated_postgres: str) -> None:
    """The bucketed union (a CASE grouped through a subquery, typed literals) on PostgreSQL."""
    from backend.core.db import make_engine

    engine = make_engine(_migrated_postgres)
    try:
        with Session(engine, expire_on_commit=False) as db:
            history = build_history(db)
            m = history.merchant_id
            closing = 0
            for month in MONTHS:
                usd = _by_currency(statements.build(db, m, False, month, now=AFTER))["USD"]
                assert usd.opening == closing
                closing = usd.closing
                assert closing == _direct(db, m, "USD", statements.month_period(month, TZ).end)
            months = statements.recent_months(
                db, m, False, TZ, now=datetime(2026, 12, 31, tzinfo=UTC)
            )
            assert [s.month for s in months] == MONTHS[::-1]
        summary, items = _read_csv(
            statements.statement_csv(Scope(m, False), MONTHS[2], engine=engine, now=AFTER)
        )
        assert len(items) > 1 and summary[-1][1] == statements.CLOSING
    finally:
        engine.dispose()
