"""What every booking writes beside its rows: the state machine's check of a payment's move,
the audit row and the outbox event, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.models import Payment, utcnow
from backend.models.enums import PaymentStatus
from backend.services import audit, events
from backend.services.context import Actor
from backend.services.payments import state_machine, totals
from backend.services.payments.new_rows import NewRows
from backend.services.representations import payment_to_dict


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
