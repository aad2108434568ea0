"""Payouts: created from the available balance (checked under the balance's lock, so two
payouts or a payout and a refund never spend the same money), in transit, then paid, failed
(also after they were paid: the bank returned the transfer) or canceled while pending."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from backend.core.errors import Conflict
from backend.models import utcnow
from backend.models.enums import PayoutStatus
from backend.models.ledger import PLATFORM, Payout
from backend.services import audit, events
from backend.services.context import Actor
from backend.services.ledger import postings, release
from backend.services.ledger.journal import BalanceKey, lock
from backend.services.payments import state_machine
from backend.services.representations import payout_to_dict

PO = PayoutStatus


class InsufficientBalance(Conflict):
    code = "balance_insufficient"


def create_payout(db: Session, payout: Payout, actor: Actor, at: datetime | None = None) -> Payout:
    """Book a new payout (status pending) of `payout.amount`, at most the available balance.
    A payout of the whole available balance pays out the transactions that make it up. `at`
    dates it (the schedule's run; now by default), so a day's automatic payout is found by
    its day."""
    key = BalanceKey(payout.merchant_id, payout.livemode, payout.currency, payout.holder)
    available = lock(db, key).available
    if payout.amount <= 0:
        raise Conflict("A payout must be for more than zero", code="payout_amount_invalid")
    if payout.amount > available:
        raise InsufficientBalance(
            "The payout is more than the available balance", code="balance_insufficient"
        )
    now = at or utcnow()
    payout.status = PO.PENDING
    payout.created_at = payout.updated_at = now
    db.add(payout)
    db.flush()
    whole = payout.amount == available
    if whole:
        release.link_to_payout(db, key, payout.id)
    postings.payout_created(db, payout, whole=whole, at=now)
    _changed(db, payout, "payout.created", actor)
    return payout


def record_processor_payout(db: Session, payout: Payout, actor: Actor) -> Payout:
    """Book a payout the merchant's own processor made (imported from it, e.g. a Stripe payout
    of a merchant whose own Stripe account pays them): we did not decide it, so it is booked
    as the processor reports it (its status is then moved by the processor's events)."""
    if payout.holder == PLATFORM:
        raise Conflict("Only a processor's own payouts are recorded", code="payout_not_imported")
    status = payout.status
    now = utcnow()
    payout.status = PO.PENDING
    payout.created_at = payout.created_at or now
    payout.updated_at = now
    db.add(payout)
    db.flush()
    postings.processor_payout(db, payout, payout.created_at)
    _changed(db, payout, "payout.created", actor)
    if status in (PO.IN_TRANSIT, PO.PAID):
        payout_in_transit(db, payout, actor)
    if status == PO.PAID:
        payout_paid(db, payout, actor, payout.arrival_date or now)
    elif status == PO.FAILED:
        code, message = payout.failure_code, payout.failure_message
        payout_failed(db, payout, code or "failed", message or "The bank refused it", actor)
    elif status == PO.CANCELED:
        cancel_payout(db, payout, actor)
    return payout


def payout_in_transit(db: Session, payout: Payout, actor: Actor) -> None:
    _move(payout, PO.IN_TRANSIT)
    _changed(db, payout, "payout.updated", actor)


def payout_paid(db: Session, payout: Payout, actor: Actor, at: datetime | None = None) -> None:
    _move(payout, PO.PAID)
    payout.paid_at = at or utcnow()
    postings.payout_paid(db, payout, payout.paid_at)
    _changed(db, payout, "payout.paid", actor)


def payout_failed(
    db: Session, payout: Payout, code: str, message: str, actor: Actor, at: datetime | None = None
) -> None:
    """The rail refused or returned the payout: its amount is available again."""
    was_paid = payout.status == PO.PAID
    _move(payout, PO.FAILED)
    payout.failed_at = at or utcnow()
    payout.failure_code, payout.failure_message = code, message
    postings.payout_returned(db, payout, canceled=False, was_paid=was_paid, at=payout.failed_at)
    _changed(db, payout, "payout.failed", actor, {"code": code})


def cancel_payout(db: Session, payout: Payout, actor: Actor) -> None:
    _move(payout, PO.CANCELED)
    payout.canceled_at = utcnow()
    postings.payout_returned(db, payout, canceled=True, was_paid=False, at=payout.canceled_at)
    _changed(db, payout, "payout.canceled", actor)


def _move(payout: Payout, target: PayoutStatus) -> None:
    state_machine.ensure_payout_move(payout.status, target)
    payout.status = target
    payout.updated_at = utcnow()


def _changed(
    db: Session, payout: Payout, type: str, actor: Actor, details: dict | None = None
) -> None:
    db.add(payout)
    audit.record_by(
        db,
        actor,
        type,
        payout,
        "payout",
        {"status": payout.status, "amount": payout.amount, **(details or {})},
    )
    events.emit(
        db,
        type=type,
        merchant_id=payout.merchant_id,
        livemode=payout.livemode,
        object_type="payout",
        object_id=payout.id,
        data={"payout": payout_to_dict(payout)},
    )
