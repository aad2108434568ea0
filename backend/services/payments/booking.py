"""The one booking path: the only place a payment, refund or dispute changes state and its fees
are set, whoever asks (the REST API, the portal, the hosted checkout, the sandbox's follow-ups or
an inbound processor event).

Each function applies one move inside the caller's transaction: the state machine's check, the
amounts and fees, the order's status, the audit row and the outbox event. The caller has already
talked to the processor (or been told by it) and holds the row locks. Nothing else writes these
columns, so a rule about money (and, next, the ledger's journal) has one home.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from backend.core.ids import new_id
from backend.models import (
    Dispute,
    Order,
    Payment,
    Refund,
    utcnow,
)
from backend.models.enums import DisputeStatus, OrderStatus, PaymentStatus, RefundStatus
from backend.services import audit, events
from backend.services.context import SYSTEM, Actor
from backend.services.payments import merchant_terms, state_machine, totals
from backend.services.payments.fees import FeeSchedule, compute_fees, returned_platform_fee
from backend.services.payments.new_rows import NewRows
from backend.services.representations import (
    dispute_to_dict,
    order_to_dict,
    payment_to_dict,
    refund_to_dict,
)

P = PaymentStatus
EVIDENCE_WINDOW_DAYS = 21
# A refund in these states is counted in the payment's amount_refunded.
BOOKED_REFUND = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


# ---------------------------------------------------------------------------------------------
# Payments


def platform_fees(db: Session, merchant_id: str) -> FeeSchedule:
    """The merchant's platform price as it is now (a capture computes its fee afresh)."""
    return merchant_terms.terms(db, merchant_id, fresh=True).platform_fees


def set_fees(payment: Payment, amount: int, platform: FeeSchedule, gateway: FeeSchedule) -> None:
    """The platform's fee, the processor's fee and the merchant's net for `amount`."""
    fees = compute_fees(amount, payment.currency, platform, gateway)
    payment.platform_fee, payment.gateway_fee, payment.net_amount = (
        fees.platform_fee,
        fees.gateway_fee,
        fees.net,
    )


def require_action(
    db: Session,
    payment: Payment,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    rows: NewRows | None = None,
) -> None:
    """The customer must authenticate (3-D Secure) before the processor decides."""
    move_payment(payment, P.REQUIRES_ACTION)
    set_fees(payment, payment.amount, platform, gateway)
    record_change(db, payment, "payment.requires_action", actor, rows=rows)


def authorize(
    db: Session,
    payment: Payment,
    amount: int,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    at: datetime,
    rows: NewRows | None = None,
) -> None:
    """The processor holds `amount` on the customer's card, to be captured later."""
    _accepted(payment, amount, platform, gateway, at)
    move_payment(payment, P.AUTHORIZED)
    record_change(db, payment, "payment.authorized", actor, rows=rows)


def capture(
    db: Session,
    order: Order | None,
    payment: Payment,
    amount: int,
    platform: FeeSchedule,
    gateway: FeeSchedule,
    actor: Actor,
    at: datetime,
    rows: NewRows | None = None,
) -> None:
    """The processor took `amount`: fees on it, the payment succeeded and its order (when
    given, i.e. still awaiting payment) is paid."""
    _accepted(payment, amount, platform, gateway, at)
    move_payment(payment, P.SUCCEEDED)
    payment.amount_captured = amount
    payment.captured_at = at
    if order is not None:
        order.status = OrderStatus.PAID
        order.updated_at = at
        if rows is None:  # otherwise the order is new (in rows) or already in the session
            db.add(order)
        emit(
            db,
            rows,
            type="order.paid",
            merchant_id=order.merchant_id,
            livemode=order.livemode,
            object_type="order",
            object_id=order.id,
            data=order_to_dict(order),
        )
    record_change(db, payment, "payment.succeeded", actor, rows=rows)


def _accepted(
    payment: Payment, amount: int, platform: FeeSchedule, gateway: FeeSchedule, at: datetime
) -> None:
    """The processor accepted the payment (held or took `amount`): its fees, no failure, and
    when it was first authorized."""
    set_fees(payment, amount, platform, gateway)
    payment.failure_code = payment.failure_message = None
    payment.authorized_at = payment.authorized_at or at


def fail(
    db: Session,
    payment: Payment,
    code: str,
    message: str,
    actor: Actor,
    rows: NewRows | None = None,
) -> None:
    """No money moved: a decline, a risk block or every processor down."""
    move_payment(payment, P.FAILED)
    payment.failure_code, payment.failure_message = code, message
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    record_change(db, payment, "payment.failed", actor, details={"code": code}, rows=rows)


def void(db: Session, payment: Payment, actor: Actor, at: datetime) -> None:
    """The hold is released before capture: no money moved, no fees."""
    move_payment(payment, P.VOIDED)
    payment.canceled_at = at
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    record_change(db, payment, "payment.voided", actor)


# ---------------------------------------------------------------------------------------------
# Refunds


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
    payment.amount_refunded -= record.amount
    payment.platform_fee += record.platform_fee_refunded
    payment.net_amount += record.amount - record.platform_fee_refunded
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


# ---------------------------------------------------------------------------------------------
# Disputes


def open_dispute(
    db: Session,
    payment: Payment,
    *,
    amount: int | None = None,
    reason: str = "fraudulent",
    gateway_dispute_id: str | None = None,
    evidence_due_by: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Dispute:
    """The customer's bank pulled the money back: the payment is disputed until it is decided."""
    move_payment(payment, P.DISPUTED)
    now = utcnow()
    dispute = Dispute(
        id=new_id("dp"),
        merchant_id=payment.merchant_id,
        livemode=payment.livemode,
        payment_id=payment.id,
        amount=payment.amount_captured - payment.amount_refunded if amount is None else amount,
        currency=payment.currency,
        status=DisputeStatus.NEEDS_RESPONSE,
        reason=reason,
        evidence_due_by=evidence_due_by or now + timedelta(days=EVIDENCE_WINDOW_DAYS),
        gateway_dispute_id=gateway_dispute_id,
    )
    db.add(dispute)
    totals.dispute_opened(db, dispute)
    record_change(
        db, payment, "dispute.created", actor, extra={"dispute": dispute_to_dict(dispute)}
    )
    return dispute


def dispute_under_review(db: Session, dispute: Dispute, actor: Actor, *, files: int) -> datetime:
    """The merchant's response was submitted: the dispute waits for the bank's decision.
    Returns the time of the submission."""
    state_machine.ensure_dispute_move(dispute.status, DisputeStatus.UNDER_REVIEW)
    now = utcnow()
    dispute.status = DisputeStatus.UNDER_REVIEW
    dispute.updated_at = now
    db.add(dispute)
    audit.record_by(db, actor, "dispute.evidence_submitted", dispute, "dispute", {"files": files})
    _emit_dispute(db, dispute, "dispute.updated")
    return now


def close_dispute(db: Session, dispute: Dispute, *, won: bool, actor: Actor = SYSTEM) -> Dispute:
    """Decided: a won dispute hands the payment back to where its refunds left it; a lost one
    stays disputed."""
    target = DisputeStatus.WON if won else DisputeStatus.LOST
    state_machine.ensure_dispute_move(dispute.status, target)
    dispute.status = target
    dispute.closed_at = dispute.updated_at = utcnow()
    payment = db.get(Payment, dispute.payment_id)
    if payment is not None and won:
        move_payment(payment, settled_status(payment))
        db.add(payment)
        totals.payment_changed(db, payment)
    db.add(dispute)
    audit.record_by(db, actor, "dispute.closed", dispute, "dispute", {"status": target})
    _emit_dispute(db, dispute, "dispute.closed")
    return dispute


def _emit_dispute(db: Session, dispute: Dispute, type: str) -> None:
    events.emit(
        db,
        type=type,
        merchant_id=dispute.merchant_id,
        livemode=dispute.livemode,
        object_type="dispute",
        object_id=dispute.id,
        data={"dispute": dispute_to_dict(dispute)},
    )


# ---------------------------------------------------------------------------------------------
# Shared mechanics


def move_payment(payment: Payment, target: PaymentStatus) -> None:
    state_machine.ensure_payment_move(payment.status, target)
    payment.status = target
    payment.updated_at = utcnow()


def record_change(
    db: Session,
    payment: Payment,
    type: str,
    actor: Actor,
    *,
    details: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    rows: NewRows | None = None,
) -> None:
    """The audit row and the outbox event of a change to a payment, in the caller's
    transaction (added to rows, when given, for a payment that is being created)."""
    totals.payment_changed(db, payment, rows)
    audit_values: dict[str, Any] = {
        "action": type,
        "merchant_id": payment.merchant_id,
        "livemode": payment.livemode,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "object_type": "payment",
        "object_id": payment.id,
        "ip_address": actor.ip_address,
        "details": {"status": payment.status, **(details or {})},
    }
    if rows is None:
        db.add(payment)
        audit.record(db, **audit_values)
    else:
        rows.audit.append(audit.new_row(**audit_values))
    emit(
        db,
        rows,
        type=type,
        merchant_id=payment.merchant_id,
        livemode=payment.livemode,
        object_type="payment",
        object_id=payment.id,
        data={"payment": payment_to_dict(payment), **(extra or {})},
    )


def emit(db: Session, rows: NewRows | None, **event: Any) -> None:
    """An outbox event now, or with the rows of an object being created."""
    if rows is None:
        events.emit(db, **event)
    else:
        rows.event(**event)
