"""A payment link that sells a recurring price: once its checkout is paid, the customer is
subscribed, the first period already paid by the checkout's payment (never charged twice) and
the card saved at the checkout (the customer's consent on the page) kept for the renewals.

Called when the session completes, in its transaction, after a first answer or a 3-D Secure
challenge alike (`session_state.complete`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.models import CheckoutSession, Order, Payment, PaymentLink, PaymentMethod
from backend.models.billing import Price
from backend.services.billing import subscriptions
from backend.services.context import Actor, Scope


@dataclass(frozen=True)
class Terms:
    """How often a subscription link's price bills: every `count` `interval`s (day, week,
    month, year); the checkout words it in the customer's language (i18n.every)."""

    interval: str
    count: int


def terms_of(db: Session, link: PaymentLink | None) -> Terms | None:
    """The recurring terms of a link that sells a subscription; None for any other link."""
    if link is None or link.price_id is None:
        return None
    price = db.get(Price, link.price_id)
    if price is None or price.recurring_interval is None:
        return None
    return Terms(price.recurring_interval, price.recurring_interval_count or 1)


def session_terms(db: Session, session: CheckoutSession) -> Terms | None:
    """The recurring terms of a session opened from a subscription link, else None."""
    link = db.get(PaymentLink, session.payment_link_id) if session.payment_link_id else None
    return terms_of(db, link)


def sells_subscription(db: Session, session: CheckoutSession) -> bool:
    """The session's link sells a recurring price: the card is saved whatever the checkbox
    (subscribing is the consent, which the page states)."""
    link = db.get(PaymentLink, session.payment_link_id) if session.payment_link_id else None
    return link is not None and link.price_id is not None


def subscribe_if_recurring(
    db: Session, session: CheckoutSession, payment: Payment, actor: Actor
) -> str | None:
    """The new subscription's id when the session's link sells a recurring price, else None."""
    link = db.get(PaymentLink, session.payment_link_id) if session.payment_link_id else None
    if link is None or link.price_id is None:
        return None
    order = db.get(Order, session.order_id)
    if order is None or order.customer_id is None:
        return None  # nobody to subscribe: the payment stands as a one-off
    quantity = int(session.line_items[0]["quantity"]) if session.line_items else 1
    made = subscriptions.create_subscription(
        db,
        Scope(session.merchant_id, session.livemode),
        customer_id=order.customer_id,
        items=[{"priceId": link.price_id, "quantity": quantity}],
        default_payment_method=_card_saved_by(db, order.customer_id, payment),
        metadata={"checkout_session": session.id, "payment_link": link.id},
        paid_by=payment,
        actor=actor,
    )
    return made.id


def _card_saved_by(db: Session, customer_id: str, payment: Payment) -> str | None:
    """The customer's saved card that paid (same fingerprint), newest first; None: the
    customer's default is charged at renewal."""
    if not payment.card_fingerprint:
        return None
    return db.exec(
        select(PaymentMethod.id)
        .where(
            PaymentMethod.customer_id == customer_id,
            PaymentMethod.fingerprint == payment.card_fingerprint,
            col(PaymentMethod.detached_at).is_(None),
        )
        .order_by(col(PaymentMethod.created_at).desc())
    ).first()
