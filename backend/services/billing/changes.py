"""The audit row and outbox event of every change to a subscription or an invoice, with the
object's API shape as the event's data (what merchants' webhooks receive)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from backend.models.billing import Invoice, InvoiceLine, Price, Subscription, SubscriptionItem
from backend.services import events
from backend.services.billing.representations import invoice_to_dict, subscription_to_dict
from backend.services.context import Actor


def items_of(db: Session, subscription: Subscription) -> list[tuple[SubscriptionItem, Price]]:
    """The subscription's items with their prices, oldest first."""
    query = (
        select(SubscriptionItem, Price)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .where(SubscriptionItem.subscription_id == subscription.id)
        .order_by(col(SubscriptionItem.created_at), col(SubscriptionItem.id))
    )
    return [(item, price) for item, price in db.exec(query).all()]


def lines_of(db: Session, invoice: Invoice) -> list[InvoiceLine]:
    query = (
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .order_by(col(InvoiceLine.created_at), col(InvoiceLine.id))
    )
    return list(db.exec(query).all())


def subscription_json(db: Session, subscription: Subscription) -> dict[str, Any]:
    return subscription_to_dict(subscription, items_of(db, subscription))


def invoice_json(db: Session, invoice: Invoice) -> dict[str, Any]:
    return invoice_to_dict(invoice, lines_of(db, invoice))


def subscription_changed(
    db: Session,
    actor: Actor,
    type: str,
    subscription: Subscription,
    details: dict[str, Any] | None = None,
) -> None:
    db.add(subscription)
    db.flush()
    events.changed(
        db, actor, type, subscription, "subscription", subscription_json(db, subscription), details
    )


def invoice_changed(
    db: Session, actor: Actor, type: str, invoice: Invoice, details: dict[str, Any] | None = None
) -> None:
    db.add(invoice)
    db.flush()
    events.changed(db, actor, type, invoice, "invoice", invoice_json(db, invoice), details)
