"""The transactional outbox: domain events written in the same transaction as the change.

Outbound webhooks are delivered from these rows, so a crash between a payment and its
delivery loses nothing: either both the change and its event are committed, or neither is.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.core.db import new_row as db_new_row
from backend.core.ids import new_id
from backend.models import DomainEvent
from backend.services import audit
from backend.services.context import Actor

# Every type the service layer emits; outbound endpoints subscribe to these.
EVENT_TYPES = (
    "payment.authorized",
    "payment.requires_action",
    "payment.processing",
    "payment.succeeded",
    "payment.captured",
    "payment.failed",
    "payment.voided",
    "payment.refunded",
    "refund.updated",
    "dispute.created",
    "dispute.closed",
    "dispute.updated",
    "order.paid",
    "balance.available",
    "payout.created",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
    "checkout.session.completed",
    "checkout.session.expired",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "payment_method.attached",
    "payment_method.detached",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.voided",
    "invoice.marked_uncollectible",
)


def new_row(
    *,
    type: str,
    merchant_id: str,
    livemode: bool,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """An outbox row's column values, for `core.db.insert_rows` in the caller's transaction."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    return db_new_row(
        DomainEvent,
        id=new_id("evt"),
        merchant_id=merchant_id,
        livemode=livemode,
        type=type,
        object_type=object_type,
        object_id=object_id,
        data=data,
    )


def emit(db: Session, **event: Any) -> DomainEvent:
    """Add the outbox row of an event (`new_row`'s arguments) to db's transaction."""
    row = DomainEvent(**new_row(**event))
    db.add(row)
    return row


def changed(
    db: Session,
    actor: Actor,
    type: str,
    obj: audit.Owned,
    object_type: str,
    data: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> DomainEvent:
    """A change to a merchant's object: its audit row (`type` is the action) and its outbox
    event with `data`, in db's transaction."""
    audit.record_by(db, actor, type, obj, object_type, details)
    return emit(
        db,
        type=type,
        merchant_id=obj.merchant_id,
        livemode=obj.livemode,
        object_type=object_type,
        object_id=obj.id,
        data=data,
    )
