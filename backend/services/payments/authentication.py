"""Finishing a payment that waits for its customer to authenticate (3-D Secure): the hosted
checkout's challenge, and an invoice paid on its hosted page or the billing portal.

Sandbox: the customer's answer to the bank's question (`approved`). Stripe: the browser ran
stripe.handleNextAction; `approved` None reads the PaymentIntent's outcome. The answer is booked
through the one booking path: a passed challenge captures the payment (fees, ledger, audit,
events), a failed one fails it, as a first answer or the Stripe webhook would.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.gateways.base import GatewayUnavailable, Outcome, PaymentResult
from backend.models import Order, Payment, utcnow
from backend.services.context import Actor
from backend.services.payments import booking, charges, routing

SUCCEEDED, REQUIRES_ACTION, DECLINED, UNAVAILABLE = (
    "succeeded",
    "requires_action",
    "declined",
    "unavailable",
)


@dataclass(frozen=True)
class Finished:
    """`status`: succeeded (captured), requires_action (still: `client_secret` for Stripe),
    declined (`decline_code`, the payment failed) or unavailable (the processor could not be
    reached; nothing changed, try again)."""

    status: str
    payment: Payment
    decline_code: str | None = None
    client_secret: str | None = None


def client_secret(db: Session, payment: Payment) -> str | None:
    """The PaymentIntent's client secret (Stripe only), for stripe.handleNextAction."""
    if not payment.gateway_payment_id:
        return None
    route = routing.route_for_payment(db, payment)
    return route.gateway.client_secret(payment.gateway_payment_id)


def finish(db: Session, payment: Payment, approved: bool | None, actor: Actor) -> Finished:
    """Ask the payment's processor how the challenge ended and book it. The caller holds the
    lock of whatever the payment pays (a checkout session, an invoice)."""
    route = routing.route_for_payment(db, payment)
    try:
        result: PaymentResult = routing.call(
            route,
            lambda g: g.complete_action(payment.gateway_payment_id or "", approved, capture=True),
            charges.attempt_recorder(db, payment, "authenticate"),
            charges.outcome_of,
        )
    except GatewayUnavailable:
        return Finished(UNAVAILABLE, payment, "unavailable")
    if result.outcome == Outcome.REQUIRES_ACTION:
        return Finished(REQUIRES_ACTION, payment, client_secret=client_secret(db, payment))
    if result.outcome == Outcome.DECLINED:
        code = result.decline_code or "authentication_failed"
        booking.fail(db, payment, code, result.message or "The card was declined.", actor)
        return Finished(DECLINED, payment, code)
    order = db.get(Order, payment.order_id, with_for_update=True) if payment.order_id else None
    platform = booking.platform_fees(db, payment.merchant_id)
    booking.capture(db, order, payment, payment.amount, platform, route.fees, actor, utcnow())
    return Finished(SUCCEEDED, payment)
