"""The payments list: keyset pages, filters and search, one merchant and mode only."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from backend.core.errors import ValidationFailed
from backend.models import Payment
from backend.services.merchant import demo
from backend.services.reporting import payment_list


@pytest.fixture
def seeded(db: Session) -> str:
    merchant_id = demo.seed_demo(db, payments=120).merchant_id
    db.commit()
    return merchant_id


NO_FILTERS = payment_list.PaymentFilters()


def all_pages(
    db: Session,
    merchant_id: str,
    filters: payment_list.PaymentFilters = NO_FILTERS,
    limit: int = 25,
) -> list[Payment]:
    seen: list[Payment] = []
    cursor = None
    while True:
        page = payment_list.search_payments(
            db, merchant_id=merchant_id, livemode=False, filters=filters, cursor=cursor, limit=limit
        )
        seen.extend(page.payments)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_pages_cover_every_payment_once_newest_first(db: Session, seeded: str):
    rows = all_pages(db, seeded, limit=7)
    total = db.exec(select(func.count()).where(Payment.merchant_id == seeded)).one()
    assert total >= 120  # the demo's sales and its subscriptions' renewals
    assert len(rows) == total
    assert len({p.id for p in rows}) == total
    keys = [(p.created_at, p.id) for p in rows]
    assert keys == sorted(keys, reverse=True)


def test_filters_narrow_the_list(db: Session, seeded: str):
    refunded = all_pages(db, seeded, payment_list.PaymentFilters(statuses=("refunded",)))
    assert refunded and all(p.status == "refunded" for p in refunded)
    euros = all_pages(db, seeded, payment_list.PaymentFilters(currency="eur"))
    assert euros and all(p.currency == "EUR" for p in euros)


def test_search_by_id_email_last4_and_amount(db: Session, seeded: str):
    sample = db.exec(select(Payment).where(Payment.currency == "USD")).first()
    assert sample is not None
    by_id = all_pages(db, seeded, payment_list.PaymentFilters(query=sample.id))
    assert [p.id for p in by_id] == [sample.id]
    by_email = all_pages(
        db, seeded, payment_list.PaymentFilters(query=sample.customer_email.upper())
    )
    assert sample.id in {p.id for p in by_email}
    by_last4 = all_pages(db, seeded, payment_list.PaymentFilters(query=sample.card_last4))
    assert all(p.card_last4 == sample.card_last4 for p in by_last4)
    typed = f"{sample.amount // 100}.{sample.amount % 100:02d}"
    by_amount = all_pages(db, seeded, payment_list.PaymentFilters(query=typed))
    assert sample.id in {p.id for p in by_amount}
    assert all(p.amount == sample.amount for p in by_amount if p.currency == "USD")


def test_other_merchants_and_modes_are_invisible(db: Session, seeded: str):
    assert all_pages(db, "mer_someone_else") == []
    page = payment_list.search_payments(db, merchant_id=seeded, livemode=True)
    assert page.payments == []


@pytest.mark.parametrize("cursor", ["garbage", "2026-01-01T00:00:00|", "not-a-date|pay_x"])
def test_bad_cursors_are_refused(db: Session, seeded: str, cursor: str):
    with pytest.raises(ValidationFailed):
        payment_list.search_payments(db, merchant_id=seeded, livemode=False, cursor=cursor)


def test_the_risk_filter_walks_the_flagged_payments_index(db: Session, seeded: str):
    rows = db.exec(select(Payment).order_by(Payment.id)).all()
    for payment, decision in zip(rows, ["review"] * 3 + ["block"] * 2, strict=False):
        payment.risk_decision = decision
        db.add(payment)
    db.commit()
    review = all_pages(db, seeded, payment_list.PaymentFilters(risk="review"), limit=2)
    assert sorted(p.id for p in review) == sorted(p.id for p in rows[:3])
    blocked = all_pages(db, seeded, payment_list.PaymentFilters(risk="block"))
    assert sorted(p.id for p in blocked) == sorted(p.id for p in rows[3:5])
    allowed = all_pages(db, seeded, payment_list.PaymentFilters(risk="allow"))
    assert all(p.risk_decision == "allow" for p in allowed)

    from sqlalchemy import text

    from backend.services.reporting.payment_list import filtered_query

    query = (
        filtered_query(seeded, False, payment_list.PaymentFilters(risk="review"))
        .order_by(Payment.created_at.desc(), Payment.id.desc())  # type: ignore[attr-defined]
        .limit(26)
    )
    sql = str(query.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row) for row in db.exec(text(f"EXPLAIN QUERY PLAN {sql}")))  # type: ignore[call-overload]
    assert "ix_payments_merchant_flagged_created" in plan


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12.50", "12.50"),
        ("$1,234.56", "1234.56"),
        ("¥500", "500"),
        ("€ 9.99", "9.99"),
        ("0", None),
        ("-5", None),
        ("pay_01abc", None),
        ("nan", None),
        ("1" * 41, None),
    ],
)
def test_a_typed_amount_is_read_as_parse_money_reads_it(text: str, amount: str | None):
    from decimal import Decimal

    from backend.services.payments.money_input import typed_amount

    assert typed_amount(text) == (Decimal(amount) if amount else None)
