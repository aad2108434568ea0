"""The ledger's rules, as properties over random histories of one merchant: captures (some
available at once), partial refunds (pending, some failing later), disputes won and lost,
releases as days pass, payouts paid, canceled, failed and returned after they were paid, and
bank debits returned by the customer's bank after they succeeded (ACH returns).

After every step: every journal sums to zero; the balance rows equal the entries of the
merchant's accounts; the balance transactions add up to available + pending; available never
goes below zero; what the merchant holds (available, pending, in transit, paid to the bank)
equals what its payments imply; a payout of the whole balance is made of transactions that add
up to it. A journal booked twice is refused by the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from backend.core.db import make_engine
from backend.core.ids import new_id
from backend.models import (
    Balance,
    BalanceTransaction,
    BankDebit,
    Dispute,
    LedgerEntry,
    Payment,
    Payout,
)
from backend.models.enums import DisputeStatus, LedgerAccount, PayoutStatus, RefundStatus
from backend.models.ledger import PLATFORM
from backend.services.context import SYSTEM
from backend.services.identity import accounts
from backend.services.ledger import availability, postings, release
from backend.services.ledger.journal import BalanceKey, Journal, Unbalanced, check
from backend.services.payments import booking
from backend.services.payments.fees import STRIPE_DEFAULT, FeeSchedule

PLATFORM_FEES = FeeSchedule(29_000, {"USD": 30, "EUR": 25})
A = LedgerAccount
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday


def _merchant(db: Session) -> str:
    created = accounts.create_merchant(
        db, email=f"l-{uuid.uuid4().hex[:8]}@shop.test", password="a long passphrase 1"
    )
    return created.merchant.id


def _charge(db: Session, merchant_id: str, amount: int, currency: str, instant: bool, at: datetime):
    payment = Payment(
        id=new_id("pay"),
        merchant_id=merchant_id,
        livemode=False,
        currency=currency,
        amount=amount,
        gateway="sandbox",
        card_last4=availability.INSTANT_TEST_CARD_LAST4 if instant else "4242",
    )  # type: ignore[call-arg]
    db.add(payment)
    db.flush()
    booking.capture(db, None, payment, amount, PLATFORM_FEES, STRIPE_DEFAULT, SYSTEM, at)
    db.flush()
    return payment


def _debit(db: Session, payment: Payment) -> BankDebit:
    """The bank debit row of a payment (as if it had been paid by bank), for a return."""
    debit = BankDebit(
        payment_id=payment.id,
        merchant_id=payment.merchant_id,
        livemode=False,
        bank_name="STRIPE TEST BANK",
        last4="6789",
        mandate_text="I authorise a debit.",
        mandate_accepted_at=T0,
        mandate_ip_address="203.0.113.1",
        mandate_user_agent="test",
    )
    db.add(debit)
    db.flush()
    return debit


def _sum(db: Session, query) -> int:  # type: ignore[no-untyped-def]
    return int(db.exec(query).one() or 0)


def _check_ledger(db: Session, merchant_id: str) -> None:
    db.flush()
    per_journal = db.exec(
        select(LedgerEntry.journal_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.merchant_id == merchant_id)
        .group_by(LedgerEntry.journal_id)
    ).all()
    assert all(total == 0 for _, total in per_journal)
    for currency in ("USD", "EUR"):
        key = BalanceKey(merchant_id, False, currency, PLATFORM)
        row = db.get(Balance, (merchant_id, False, currency, PLATFORM))
        db.refresh(row) if row is not None else None

        def account(name: LedgerAccount, currency: str = currency) -> int:
            return _sum(
                db,
                select(func.sum(LedgerEntry.amount)).where(
                    LedgerEntry.merchant_id == merchant_id,
                    LedgerEntry.currency == currency,
                    LedgerEntry.account == name,
                ),
            )

        available, pending, in_transit = (
            account(A.MERCHANT_AVAILABLE),
            account(A.MERCHANT_PENDING),
            account(A.MERCHANT_IN_TRANSIT),
        )
        if row is None:
            assert (available, pending, in_transit) == (0, 0, 0)
            continue
        assert (row.available, row.pending, row.in_transit) == (available, pending, in_transit)
        assert available >= 0, key
        nets = _sum(
            db,
            select(func.sum(BalanceTransaction.net)).where(
                BalanceTransaction.merchant_id == merchant_id,
                BalanceTransaction.currency == currency,
            ),
        )
        assert nets == available + pending
        # What the merchant holds anywhere equals what its payments, disputes and payouts imply.
        payments_net = _sum(
            db,
            select(func.sum(Payment.net_amount)).where(
                Payment.merchant_id == merchant_id, Payment.currency == currency
            ),
        )
        disputes = db.exec(
            select(Dispute).where(Dispute.merchant_id == merchant_id, Dispute.currency == currency)
        ).all()
        withheld = sum(d.amount + d.fee for d in disputes if d.status != DisputeStatus.WON)
        # A returned bank debit gave back its amount, got its platform fee back and paid the
        # processor's return fee; its net stays on the payment (what it once brought).
        returned = sum(
            p.amount_captured - p.platform_fee + (d.return_fee or 0)
            for p, d in db.exec(
                select(Payment, BankDebit)
                .join(BankDebit, BankDebit.payment_id == Payment.id)  # type: ignore[arg-type]
                .where(Payment.merchant_id == merchant_id, Payment.currency == currency)
            ).all()
            if d.returned_at is not None
        )
        assert (
            available + pending + in_transit + account(A.BANK) == payments_net - withheld - returned
        )
        paid_out = _sum(
            db,
            select(func.sum(Payout.amount)).where(
                Payout.merchant_id == merchant_id,
                Payout.currency == currency,
                Payout.status.in_(  # type: ignore[attr-defined]
                    (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT, PayoutStatus.PAID)
                ),
            ),
        )
        assert in_transit + account(A.BANK) == paid_out


def _whole_payouts_add_up(db: Session, merchant_id: str) -> None:
    for payout in db.exec(select(Payout).where(Payout.merchant_id == merchant_id)).all():
        linked = db.exec(
            select(BalanceTransaction).where(BalanceTransaction.payout_id == payout.id)
        ).all()
        own = [t for t in linked if t.source_id == payout.id]
        if own:  # a payout of the whole balance
            paid = sum(t.net for t in linked if t.source_id != payout.id)
            assert paid == payout.amount


@pytest.fixture(scope="module")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    from tests.support import migrate, scratch_postgres_database

    with scratch_postgres_database(postgres_url) as url:
        migrate(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_db(request: pytest.FixtureRequest) -> Iterator[Session]:
    """A session on SQLite or PostgreSQL: the balance row's upserts and locks differ."""
    if request.param == "sqlite":
        yield request.getfixturevalue("db")
        return
    with Session(request.getfixturevalue("postgres_engine"), expire_on_commit=False) as session:
        yield session


step = st.one_of(
    st.tuples(
        st.just("charge"), st.integers(100, 500_000), st.sampled_from(["USD", "EUR"]), st.booleans()
    ),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 1000), st.booleans()),
    st.tuples(st.just("fail_refund"), st.integers(0, 50)),
    st.tuples(st.just("dispute"), st.integers(0, 50)),
    st.tuples(st.just("bank_return"), st.integers(0, 50)),
    st.tuples(st.just("close"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("days"), st.integers(1, 6)),
    st.tuples(st.just("payout"), st.sampled_from(["USD", "EUR"]), st.integers(0, 1000)),
    st.tuples(
        st.just("payout_end"),
        st.integers(0, 50),
        st.sampled_from(["paid", "failed", "canceled", "returned"]),
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=st.lists(step, min_size=1, max_size=25))
def test_random_histories_keep_the_ledger_balanced(ledger_db: Session, plan: list[tuple]) -> None:
    db = ledger_db
    merchant_id = _merchant(db)
    now = T0
    payments: list[Payment] = []
    refunds: list = []
    disputes: list[Dispute] = []
    payouts: list[Payout] = []
    for op, *args in plan:
        if op == "charge":
            amount, currency, instant = args
            payments.append(_charge(db, merchant_id, amount, currency, instant, now))
        elif op == "refund" and payments:
            payment = payments[args[0] % len(payments)]
            left = payment.amount_captured - payment.amount_refunded
            if payment.status in ("succeeded", "partially_refunded") and left > 0:
                refund = booking.new_refund(payment, max(1, left * args[1] // 1000), reason=None)
                db.add(refund)
                db.flush()
                booking.book_refund(db, payment, refund, SYSTEM, pending=args[2])
                refunds.append((payment, refund))
        elif op == "fail_refund" and refunds:
            payment, refund = refunds[args[0] % len(refunds)]
            if refund.status in booking.BOOKED_REFUND:
                booking.reverse_refund(db, payment, refund, RefundStatus.FAILED, "lost", SYSTEM)
        elif op == "dispute" and payments:
            payment = payments[args[0] % len(payments)]
            if payment.status == "succeeded":
                disputes.append(booking.open_dispute(db, payment))
        elif op == "bank_return" and payments:
            payment = payments[args[0] % len(payments)]
            if payment.status == "succeeded":
                booking.bank_return(
                    db, payment, _debit(db, payment), "R01", "Insufficient funds", SYSTEM, now
                )
        elif op == "close" and disputes:
            dispute = disputes[args[0] % len(disputes)]
            if dispute.status == DisputeStatus.NEEDS_RESPONSE:
                booking.close_dispute(db, dispute, won=args[1])
        elif op == "days":
            now += timedelta(days=args[0])
            for currency in ("USD", "EUR"):
                release.release(db, BalanceKey(merchant_id, False, currency, PLATFORM), now)
        elif op == "payout":
            currency, share = args
            row = db.get(Balance, (merchant_id, False, currency, PLATFORM))
            if row is not None:
                db.refresh(row)
            available = row.available if row is not None else 0
            amount = available if share >= 900 else available * share // 1000
            if amount > 0:
                payout = Payout(
                    id=new_id("po"),
                    merchant_id=merchant_id,
                    amount=amount,
                    currency=currency,
                    rail="sandbox",
                )  # type: ignore[call-arg]
                payouts.append(booking.create_payout(db, payout, SYSTEM))
        elif op == "payout_end" and payouts:
            payout = payouts[args[0] % len(payouts)]
            end = args[1]
            if payout.status == PayoutStatus.PENDING and end == "canceled":
                booking.cancel_payout(db, payout, SYSTEM)
            elif payout.status == PayoutStatus.PENDING and end == "failed":
                booking.payout_failed(db, payout, "refused", "Refused", SYSTEM)
            elif payout.status == PayoutStatus.PENDING and end in ("paid", "returned"):
                booking.payout_paid(db, payout, SYSTEM)
            elif payout.status == PayoutStatus.PAID and end == "returned":
                booking.payout_failed(db, payout, "R01", "Insufficient funds", SYSTEM)
        _check_ledger(db, merchant_id)
    _whole_payouts_add_up(db, merchant_id)
    db.rollback()


def test_a_payout_is_never_more_than_the_available_balance(db: Session) -> None:
    merchant_id = _merchant(db)
    _charge(db, merchant_id, 10_000, "USD", True, T0)
    available = db.get(Balance, (merchant_id, False, "USD", PLATFORM)).available  # type: ignore[union-attr]
    assert available == 10_000 - 320 - 320  # Stripe's 2.9% + 30 and the platform's the same
    payout = Payout(
        id=new_id("po"),
        merchant_id=merchant_id,
        amount=available + 1,
        currency="USD",
        rail="sandbox",
    )  # type: ignore[call-arg]
    with pytest.raises(booking.InsufficientBalance):
        booking.create_payout(db, payout, SYSTEM)
    db.rollback()


def test_funds_are_pending_two_business_days_unless_the_test_card_says_at_once(
    db: Session,
) -> None:
    merchant_id = _merchant(db)
    friday = datetime(2026, 11, 6, 18, 0, tzinfo=UTC)
    slow = _charge(db, merchant_id, 5_000, "USD", False, friday)
    _charge(db, merchant_id, 7_000, "USD", True, friday)
    pending = db.exec(
        select(BalanceTransaction).where(BalanceTransaction.source_id == slow.id)
    ).all()
    assert {t.status for t in pending} == {"pending"}
    # Friday + 2 business days: Tuesday 00:00 UTC.
    assert {t.available_on for t in pending} == {datetime(2026, 11, 10, tzinfo=UTC)}
    key = BalanceKey(merchant_id, False, "USD", PLATFORM)
    assert release.release(db, key, datetime(2026, 11, 9, 23, 59, tzinfo=UTC)).amount == 0
    assert release.release(db, key, datetime(2026, 11, 10, tzinfo=UTC)).amount == slow.net_amount
    _check_ledger(db, merchant_id)
    db.rollback()


def test_a_journal_that_does_not_balance_or_repeats_is_refused(db: Session) -> None:
    key = BalanceKey("mer_x", False, "USD", PLATFORM)
    with pytest.raises(Unbalanced):
        check(Journal(key, "x", "x:1", "payment", "pay_1", [(A.MERCHANT_PENDING, 5)]))
    merchant_id = _merchant(db)
    payment = _charge(db, merchant_id, 5_000, "USD", False, T0)
    with pytest.raises(IntegrityError):  # the capture's journal exists: never booked twice
        postings.captured(db, payment, T0, holder=PLATFORM, delay_days=2)
        db.flush()
    db.rollback()


def test_business_days_skip_weekends() -> None:
    saturday = datetime(2026, 11, 7, 10, tzinfo=UTC)
    assert availability.add_business_days(saturday, 1) == datetime(2026, 11, 9, tzinfo=UTC)
    assert availability.add_business_days(saturday, 2) == datetime(2026, 11, 10, tzinfo=UTC)
    assert availability.add_business_days(T0, 5) == datetime(2026, 11, 9, tzinfo=UTC)
    assert availability.add_business_days(T0, 0) == T0


def test_entries_are_only_written_by_the_ledger() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = []
    for path in (root / "backend").rglob("*.py"):
        name = path.relative_to(root).as_posix()
        if name.startswith(("backend/services/ledger/", "backend/models/")):
            continue
        text = path.read_text()
        if re.search(
            r"\b(LedgerEntry|LedgerJournal|BalanceTransaction|Balance)(\.__table__|\()"
            r"|update\((LedgerEntry|LedgerJournal|BalanceTransaction|Balance)\b",
            text,
        ):
            writers.append(name)
    assert writers == []
