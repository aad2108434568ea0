"""A bank debit (ACH) returned by the customer's bank after it succeeded (R01, R02...): the one
way a succeeded payment fails. The money goes back, the platform fee with it, the processor's
return fee is charged, and the order awaits payment again."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from backend.models import BankDebit, Order, Payment
from backend.models.enums import OrderStatus, PaymentStatus
from backend.services.context import Actor
from backend.services.ledger import postings
from backend.services.payments import state_machine
from backend.services.payments.booking.changes import record_change
from backend.services.payments.fees import BANK_RETURN_FEE


def bank_return(
    db: Session,
    payment: Payment,
    debit: BankDebit,
    code: str,
    message: str,
    actor: Actor,
    at: datetime,
) -> None:
    """Book the return of a succeeded bank debit. The caller holds the payment's lock and has
    checked that the return is news (a repeated event finds the payment failed already)."""
    state_machine.ensure_bank_return(payment.status)
    payment.status = PaymentStatus.FAILED
    payment.failure_code, payment.failure_message = code, message
    payment.updated_at = at
    debit.return_code, debit.returned_at, debit.return_fee = code, at, BANK_RETURN_FEE
    debit.poll_until = None
    db.add(debit)
    if payment.order_id and (order := db.get(Order, payment.order_id)) is not None:
        order.status, order.updated_at = OrderStatus.OPEN, at  # unpaid again
        db.add(order)
    # The platform fee comes back whole: a succeeded payment has no refund booked.
    fee_back = payment.platform_fee
    record_change(
        db,
        payment,
        "payment.failed",
        actor,
        details={"code": code, "bank_return": True},
        extra={
            "bankReturn": {
                "code": code,
                "reason": message,
                "returnFeeCents": BANK_RETURN_FEE,
                "platformFeeReturnedCents": fee_back,
            }
        },
    )
    postings.bank_returned(
        db, payment, fee_back, BANK_RETURN_FEE, at, holder=postings.holder_of(db, payment)
    )
