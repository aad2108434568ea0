"""Disputes (chargebacks): opened by the gateway, answered by the merchant, closed won or lost."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from backend.core.ids import new_id
from backend.models import Dispute, Payment, utcnow
from backend.models.enums import DisputeStatus, PaymentStatus
from backend.services import audit, events
from backend.services.payments import state_machine
from backend.services.payments.charges import SYSTEM, Actor, move_payment, record_change
from backend.services.representations import dispute_to_dict

EVIDENCE_WINDOW = timedelta(days=21)


def open_dispute(
    db: Session,
    payment: Payment,
    *,
    amount: int | None = None,
    reason: str = "fraudulent",
    gateway_dispute_id: str | None = None,
    actor: Actor = SYSTEM,
) -> Dispute:
    """The customer's bank pulled the money back: the payment is disputed until it is decided."""
    move_payment(payment, PaymentStatus.DISPUTED)
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
        evidence_due_by=now + EVIDENCE_WINDOW,
        gateway_dispute_id=gateway_dispute_id,
    )
    db.add(dispute)
    record_change(
        db, payment, "dispute.created", actor, extra={"dispute": dispute_to_dict(dispute)}
    )
    return dispute


def close_dispute(db: Session, dispute: Dispute, *, won: bool, actor: Actor = SYSTEM) -> Dispute:
    target = DisputeStatus.WON if won else DisputeStatus.LOST
    state_machine.ensure_dispute_move(dispute.status, target)
    dispute.status = target
    dispute.closed_at = dispute.updated_at = utcnow()
    payment = db.get(Payment, dispute.payment_id)
    if payment is not None and won:
        if payment.amount_refunded >= payment.amount_captured:
            back_to = PaymentStatus.REFUNDED
        elif payment.amount_refunded > 0:
            back_to = PaymentStatus.PARTIALLY_REFUNDED
        else:
            back_to = PaymentStatus.SUCCEEDED
        move_payment(payment, back_to)
        db.add(payment)
    db.add(dispute)
    audit.record(
        db,
        action="dispute.closed",
        merchant_id=dispute.merchant_id,
        livemode=dispute.livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        object_type="dispute",
        object_id=dispute.id,
        details={"status": target},
    )
    events.emit(
        db,
        type="dispute.closed",
        merchant_id=dispute.merchant_id,
        livemode=dispute.livemode,
        object_type="dispute",
        object_id=dispute.id,
        data={"dispute": dispute_to_dict(dispute)},
    )
    return dispute
