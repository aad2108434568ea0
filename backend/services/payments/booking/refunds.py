"""Refunds: booked when the processor accepts them (pending ones at once), confirmed, or
reversed when they fail, with the platform fee they hand back and the ledger's journal."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from backend.core.ids import new_id
from backend.models import Order, Payment, Refund, utcnow
from backend.models.enums import OrderStatus, PaymentStatus, RefundStatus
from backend.services import audit, events
from backend.services.context import Actor
from backend.services.ledger import postings
from backend.services.payments import merchant_terms, state_machine, totals
from backend.services.payments.booking.changes import move_payment, record_change
from backend.services.payments.fees import returned_platform_fee
from backend.services.representations import refund_to_dict

P = PaymentStatus
# A refund in these states is counted in the payment's amount_refunded.
BOOKED_REFUND = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


def new_refund(
    payment: Payment,
    amount: int,
    *,
    reason: str | None,
    gateway_refund_id: str | None = None,
    synced_at: datetime | None = None,
) -> Refund:
    """A refund row of this payment, not yet booked (its status is the model's default)."""
    return Refund(
        id=new_id("re"),
        merchant_id=payment.merchant_id,
        livemode=payment.livemode,
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        gateway_refund_id=gateway_refund_id,
        gateway_synced_at=synced_at,
    )  # type: ignore[arg-type]


def refunds_of(db: Session, payment_id: str) -> list[Refund]:
    return list(
        db.exec(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.created_at))
    )


def book_refund(
    db: Session, payment: Payment, record: Refund, actor: Actor, *, pending: bool = False
) -> None:
    """Book a refund the processor accepted: the platform fee handed back, the net, the
    statuses of the refund, the payment and its order, the audit row and the events.

    A pending refund is booked at once, as processors count it against the payment; a later
    event confirms it (confirm_refund) or, if it fails, reverses the booking (reverse_refund).
    """
    if not pending:
        state_machine.ensure_refund_move(record.status, RefundStatus.SUCCEEDED)
    refunded_before = payment.amount_refunded
    back = 0
    if merchant_terms.terms(db, payment.merchant_id, fresh=True).refund_returns_platform_fee:
        original_fee = payment.platform_fee + sum(
            r.platform_fee_refunded for r in refunds_of(db, payment.id) if r.id != record.id
        )
        back = returned_platform_fee(
            original_fee=original_fee,
            captured=payment.amount_captured,
            refunded_before=refunded_before,
            refund=record.amount,
        )
    record.status = RefundStatus.PENDING if pending else RefundStatus.SUCCEEDED
    record.platform_fee_refunded = back
    totals.refund_booked(db, record)
    record.updated_at = utcnow()
    payment.amount_refunded = refunded_before + record.amount
    payment.platform_fee -= back
    payment.net_amount -= record.amount - back
    full = payment.amount_refunded == payment.amount_captured
    # A refund can reach us (webhook) while the payment's dispute is open or lost: the payment
    # stays disputed, and closing the dispute won settles its status.
    if payment.status != P.DISPUTED:
        move_payment(payment, P.REFUNDED if full else P.PARTIALLY_REFUNDED)
    _set_order_status(db, payment, OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED)
    db.add(record)
    record_change(
        db,
        payment,
        "payment.refunded",
        actor,
        details={"refund": record.id, "amount": record.amount},
        extra={"refund": refund_to_dict(record)},
    )
    postings.refunded(
        db, payment, record, record.updated_at, holder=postings.holder_of(db, payment)
    )


def confirm_refund(db: Session, payment: Payment, record: Refund, actor: Actor) -> None:
    """A pending refund (already booked) succeeded at the processor."""
    state_machine.ensure_refund_move(record.status, RefundStatus.SUCCEEDED)
    record.status = RefundStatus.SUCCEEDED
    _refund_changed(db, payment, record, "refund.succeeded", actor)


def record_unbooked_refund(
    db: Session,
    payment: Payment,
    record: Refund,
    status: RefundStatus,
    reason: str | None,
    actor: Actor,
    *,
    new: bool = False,
) -> None:
    """A refund the processor refused or canceled before it was booked: no money moved.

    `new` is a refund first seen in this state (made at the processor, e.g. its dashboard)."""
    record.status = status
    record.failure_reason = reason or status
    if new:
        _refund_changed(db, payment, record, "refund.failed", actor)
    else:  # our own API call: the caller answers with the refund, merchants hear of it
        db.add(record)
        _emit_refund(db, record)


def reverse_refund(
    db: Session,
    payment: Payment,
    record: Refund,
    status: RefundStatus,
    reason: str | None,
    actor: Actor,
) -> None:
    """Undo a booked refund that failed: the money, the fee handed back and the statuses."""
    state_machine.ensure_refund_move(record.status, status)
    totals.refund_reversed(db, record)
    returned_fee = record.platform_fee_refunded
    payment.amount_refunded -= record.amount
    payment.platform_fee += returned_fee
    payment.net_amount += record.amount - returned_fee
    # book_refund sums the fees other refunds handed back: a failed one hands back nothing.
    record.platform_fee_refunded = 0
    record.status = status
    record.failure_reason = reason or status
    if payment.status != P.DISPUTED:  # an open or lost dispute keeps the payment disputed
        move_payment(payment, settled_status(payment))
    refunded = payment.amount_refunded > 0
    _set_order_status(db, payment, OrderStatus.PARTIALLY_REFUNDED if refunded else OrderStatus.PAID)
    db.add(payment)
    totals.payment_changed(db, payment)
    _refund_changed(db, payment, record, "refund.reversed", actor)
    holder = postings.holder_of(db, payment)
    postings.refund_reversed(db, payment, record, returned_fee, utcnow(), holder=holder)


def settled_status(payment: Payment) -> PaymentStatus:
    """Where a captured payment stands given its refunds (after a dispute or a reversal)."""
    if payment.amount_refunded <= 0:
        return P.SUCCEEDED
    full = payment.amount_refunded >= payment.amount_captured
    return P.REFUNDED if full else P.PARTIALLY_REFUNDED


def _set_order_status(db: Session, payment: Payment, status: OrderStatus) -> None:
    if payment.order_id and (order := db.get(Order, payment.order_id)) is not None:
        order.status = status
        order.updated_at = utcnow()
        db.add(order)


def _refund_changed(
    db: Session, payment: Payment, record: Refund, action: str, actor: Actor
) -> None:
    record.updated_at = utcnow()
    db.add(record)
    audit.record_by(
        db,
        actor,
        action,
        record,
        "refund",
        {"payment": payment.id, "status": record.status, "amount": record.amount},
    )
    _emit_refund(db, record)


def _emit_refund(db: Session, record: Refund) -> None:
    events.emit(
        db,
        type="refund.updated",
        merchant_id=record.merchant_id,
        livemode=record.livemode,
        object_type="refund",
        object_id=record.id,
        data=refund_to_dict(record),
    )
