"""The end of a 3-D Secure challenge, for any payment waiting in requires_action: the hosted
checkout's, or an invoice's on its hosted page.

Sandbox: the customer's answer (`approved`). Stripe: the PaymentIntent's state after
stripe.handleNextAction in the browser (`approved` None). A pass is captured and a failure
failed through the one booking path, so the payment, its order, fees, ledger, audit rows and
events agree whoever finished it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.gateways.base import GatewayUnavailable, Outcome, PaymentResult
from backend.models import Order, Payment, utcnow
from backend.models.enums import CaptureMethod
from backend.services.context import Actor
from backend.services.payments import booking, charges, routing


@dataclass(frozen=True)
class Finished:
    """`outcome`: captured, declined (with `decline_code`), still waiting (requires_action:
    `client_secret` for Stripe's next step), authorized (an authorize-only payment: a hold
    placed, captured later) or unavailable (the processor did not answer)."""

    outcome: str
    payment: Payment
    decline_code: str | None = None
    message: str | None = None
    client_secret: str | None = None
    gateway_fees: object = None


CAPTURED = "captured"
AUTHORIZED = "authorized"
DECLINED = "declined"
WAITING = "requires_action"
UNAVAILABLE = "unavailable"


def finish(db: Session, payment: Payment, approved: bool | None, actor: Actor) -> Finished:
    """Ask the processor how the challenge ended and book it. The caller holds the payment's
    owner (session or invoice) locked."""
    route = routing.route_for_payment(db, payment)
    capture = payment.capture_method != CaptureMethod.MANUAL
    try:
        result: PaymentResult = routing.call(
            route,
            lambda g: g.complete_action(
                payment.gateway_payment_id or "", approved, capture=capture
            ),
            charges.attempt_recorder(db, payment, "authenticate"),
            charges.outcome_of,
        )
    except GatewayUnavailable:
        return Finished(UNAVAILABLE, payment)
    if result.outcome == Outcome.REQUIRES_ACTION:
        return Finished(WAITING, payment, client_secret=client_secret(db, payment))
    if result.outcome == Outcome.DECLINED:
        code = result.decline_code or "authentication_failed"
        message = result.message or "The card was declined."
        booking.fail(db, payment, code, message, actor)
        return Finished(DECLINED, payment, decline_code=code, message=message)
    platform = booking.platform_fees(db, payment.merchant_id)
    if result.outcome == Outcome.AUTHORIZED:  # an authorize-only payment (PayPal AUTHORIZE)
        booking.authorize(db, payment, payment.amount, platform, route.fees, actor, utcnow())
        return Finished(AUTHORIZED, payment)
    order = db.get(Order, payment.order_id, with_for_update=True)
    assert order is not None
    booking.capture(db, order, payment, payment.amount, platform, route.fees, actor, utcnow())
    return Finished(CAPTURED, payment)


def action_url(db: Session, payment: Payment) -> str | None:
    """Where the customer goes for the processor's own approval page (PayPal), or None."""
    if not payment.gateway_payment_id:
        return None
    route = routing.route_for_payment(db, payment)
    return route.gateway.action_url(payment.gateway_payment_id)


def client_secret(db: Session, payment: Payment) -> str | None:
    """The PaymentIntent's client secret (Stripe only), for stripe.handleNextAction."""
    if not payment.gateway_payment_id:
        return None
    route = routing.route_for_payment(db, payment)
    return route.gateway.client_secret(payment.gateway_payment_id)
