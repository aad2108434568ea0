"""The ACH return rule, as properties: a succeeded bank debit returned by the customer's bank
reverses through the one booking path. Whatever the amount, whether its funds were still
pending or already available, and whatever else the merchant holds: every journal balances,
the merchant's balance moves by -(amount) + platform fee back - return fee, available never
goes below zero, the balance transactions still add up to available + pending, and a return
is booked once (a second one is refused, the journal key too)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from backend.core.errors import Conflict
from backend.models import Balance, BalanceTransaction, LedgerEntry, Order
from backend.models.enums import LedgerAccount
from backend.models.ledger import PLATFORM
from backend.services.context import SYSTEM
from backend.services.ledger import postings
from backend.services.payments import booking
from backend.services.payments.fees import BANK_RETURN_FEE
from tests.unit.test_ledger import T0, _charge, _debit, _merchant

A = LedgerAccount


def _accounts(db: Session, merchant_id: str) -> dict[str, int]:
    rows = db.exec(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.merchant_id == merchant_id)
        .group_by(LedgerEntry.account)
    ).all()
    return {account: int(total) for account, total in rows}


def _journals_balance(db: Session, merchant_id: str) -> bool:
    totals = db.exec(
        select(func.sum(LedgerEntry.amount))
        .where(LedgerEntry.merchant_id == merchant_id)
        .group_by(LedgerEntry.journal_id)
    ).all()
    return all(total == 0 for total in totals)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.integers(min_value=50, max_value=5_000_000),
    instant=st.booleans(),
    others=st.lists(st.tuples(st.integers(50, 200_000), st.booleans()), max_size=3),
)
def test_a_return_reverses_the_debit_and_charges_the_fee(
    db: Session, amount: int, instant: bool, others: list[tuple[int, bool]]
) -> None:
    merchant_id = _merchant(db)
    for other, at_once in others:
        _charge(db, merchant_id, other, "USD", at_once, T0)
    payment = _charge(db, merchant_id, amount, "USD", instant, T0)
    payment.payment_method_type = "bank"
    debit = _debit(db, payment)
    before = _accounts(db, merchant_id)

    booking.bank_return(db, payment, debit, "R01", "Insufficient funds (R01)", SYSTEM, T0)
    db.flush()
    after = _accounts(db, merchant_id)

    def moved(account: str) -> int:
        return after.get(account, 0) - before.get(account, 0)

    assert _journals_balance(db, merchant_id)
    effect = moved(A.MERCHANT_AVAILABLE) + moved(A.MERCHANT_PENDING)
    assert effect == -amount + payment.platform_fee - BANK_RETURN_FEE
    assert moved(A.PLATFORM_FEE_REVENUE) == -payment.platform_fee
    assert moved(A.PROCESSOR_FEES) == BANK_RETURN_FEE  # the processor keeps its own fee too
    assert moved(A.PROCESSOR_CLEARING) == amount
    row = db.get(Balance, (merchant_id, False, "USD", PLATFORM))
    assert row is not None
    db.refresh(row)
    assert row.available >= 0
    nets = db.exec(
        select(func.sum(BalanceTransaction.net)).where(
            BalanceTransaction.merchant_id == merchant_id
        )
    ).one()
    assert nets == row.available + row.pending
    assert (payment.status, payment.failure_code) == ("failed", "R01")
    assert (debit.return_code, debit.return_fee) == ("R01", BANK_RETURN_FEE)

    with pytest.raises(Conflict):  # a failed payment cannot be returned again
        booking.bank_return(db, payment, debit, "R01", "Insufficient funds (R01)", SYSTEM, T0)
    with pytest.raises(IntegrityError):  # nor its journal booked twice, whatever calls it
        postings.bank_returned(db, payment, 0, BANK_RETURN_FEE, T0, holder=PLATFORM)
        db.flush()
    db.rollback()


def test_a_return_reopens_the_order(db: Session) -> None:
    merchant_id = _merchant(db)
    payment = _charge(db, merchant_id, 2_000, "USD", False, T0)
    order = Order(
        id="ord_bank_return", merchant_id=merchant_id, amount=2_000, currency="USD", status="paid"
    )  # type: ignore[call-arg]
    db.add(order)
    db.flush()
    payment.order_id = order.id
    booking.bank_return(db, payment, _debit(db, payment), "R02", "Account closed", SYSTEM, T0)
    db.flush()
    assert db.get(Order, order.id).status == "open"  # type: ignore[union-attr]
    db.rollback()


@pytest.mark.parametrize("status", ["processing", "requires_payment_method", "refunded"])
def test_only_a_succeeded_payment_is_returned(db: Session, status: str) -> None:
    merchant_id = _merchant(db)
    payment = _charge(db, merchant_id, 2_000, "USD", False, T0)
    payment.status = status
    with pytest.raises(Conflict):
        booking.bank_return(db, payment, _debit(db, payment), "R01", "x", SYSTEM, T0)
    db.rollback()
