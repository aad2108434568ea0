"""Disputes: opened when the customer's bank pulls the money back (the amount and the
processor's dispute fee leave the merchant's balance), under review once the merchant
responded, and closed won (both come back) or lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from backend.core.ids import new_id
from backend.models import Dispute, GatewayConfig, Payment, utcnow
from backend.models.enums import DisputeStatus, PaymentStatus
from backend.services import audit, events
from backend.services.context import SYSTEM, Actor
from backend.services.ledger import postings
from backend.services.payments import state_machine, totals
from backend.services.payments.booking.changes import move_payment, record_change
from backend.services.payments.booking.refunds import settled_status
from backend.services.payments.fees import dispute_fee
from backend.services.representations import dispute_to_dict

P = PaymentStatus
EVIDENCE_WINDOW_DAYS = 21


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
    config = db.get(GatewayConfig, payment.gateway_config_id) if payment.gateway_config_id else None
    dispute.fee = dispute_fee(payment.currency, config.dispute_fee if config else None)
    db.add(dispute)
    totals.dispute_opened(db, dispute)
    record_change(
        db, payment, "dispute.created", actor, extra={"dispute": dispute_to_dict(dispute)}
    )
    postings.dispute_opened(db, dispute, now, holder=postings.holder_of(db, payment))
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
    now = dispute.closed_at = dispute.updated_at = utcnow()
    payment = db.get(Payment, dispute.payment_id)
    if payment is not None:
        holder = postings.holder_of(db, payment)
        postings.dispute_closed(db, dispute, won=won, at=now, holder=holder)
        if won:
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
