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

from backend.core.config import get_settings
from backend.core.errors import Conflict, ValidationFailed
from backend.gateways.base import GatewayUnavailable, Outcome, PaymentResult
from backend.models import Order, Payment, utcnow
from backend.models.enums import CaptureMethod, PaymentStatus
from backend.services.context import Actor, Scope
from backend.services.payments import booking, charges, orders, routing


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
# The decline code of a customer who cancelled at PayPal (or on our test page): their choice,
# not a decline.
CANCELED_BY_CUSTOMER = "payment_canceled"


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


# What the customer's step is, as the API shows it (nextAction.type).
REDIRECT_TO_URL = "redirect_to_url"
USE_STRIPE_SDK = "use_stripe_sdk"
# Our own page that plays the step where the processor asks us for the customer's answer (the
# sandbox's 3-D Secure, the PayPal twin's approval), for payments made through the API.
TEST_APPROVAL_PATH = "/api/test-approval"


@dataclass(frozen=True)
class NextAction:
    """What a payment in requires_action waits for: the customer's browser goes to `url` (and
    comes back to `return_url`), or Stripe's script finishes it with `client_secret`."""

    type: str
    url: str | None = None
    return_url: str | None = None
    client_secret: str | None = None


def answered_on_our_page(route: routing.Route) -> bool:
    """The processor asks us for the customer's answer (complete_action's `approved`): the
    sandbox and PayPal's offline twin, whose step is a page of ours."""
    from backend.gateways.paypal import PayPalTwin
    from backend.gateways.sandbox import SandboxGateway

    return isinstance(route.gateway, SandboxGateway | PayPalTwin)


def next_action(db: Session, payment: Payment) -> NextAction | None:
    """The step a payment waits for, or None when it waits for nothing. PayPal: its approval
    page (action_url). Stripe: its script. The sandbox and the PayPal twin (test mode): our own
    test approval page, which plays the processor's step. None too while the processor cannot
    be asked (confirming the payment then answers 503: retry)."""
    if payment.status != PaymentStatus.REQUIRES_ACTION or not payment.gateway_payment_id:
        return None
    try:
        route = routing.route_for_payment(db, payment)
    except ValidationFailed:  # its processor's credentials are gone: nothing can finish it
        return None
    if answered_on_our_page(route):
        url = f"{get_settings().app_url}{TEST_APPROVAL_PATH}/{payment.id}"
        return NextAction(REDIRECT_TO_URL, url=url, return_url=payment.return_url)
    try:
        url = route.gateway.action_url(payment.gateway_payment_id)
        secret = None if url else route.gateway.client_secret(payment.gateway_payment_id)
    except GatewayUnavailable:  # reading the payment never fails because its processor is down
        return None
    if url:
        return NextAction(REDIRECT_TO_URL, url=url, return_url=payment.return_url)
    if secret:
        return NextAction(USE_STRIPE_SDK, client_secret=secret)
    return None  # PayPal's order was approved: confirming the payment finishes it


def confirm(db: Session, scope: Scope, payment_id: str, cancelled: bool, actor: Actor) -> Finished:
    """The merchant's end of a payment made through the API that waited for its customer
    (POST /api/payments/{id}/confirm): `cancelled` when the buyer came back on the cancel URL.
    PayPal: its order's state decides. The sandbox and the PayPal twin: the customer's answer on
    our test approval page (none yet: still waiting). Locks as PayPal's approval event does
    (a checkout's session, then the payment), so the two never both finish it."""
    found = orders.get_payment(db, scope, payment_id)
    session_id = (found.metadata_ or {}).get("checkout_session_id")
    if isinstance(session_id, str):
        from backend.services.checkout.session_state import lock_session

        lock_session(db, session_id)
    payment = orders.get_payment(db, scope, payment_id, lock=True)
    db.refresh(payment)
    if payment.status != PaymentStatus.REQUIRES_ACTION:
        raise Conflict(
            f"Payment {payment.id} is {payment.status}: only a payment in requires_action waits "
            "for its customer",
            code="payment_not_awaiting_action",
            param="paymentId",
        )
    approved: bool | None = False if cancelled else None
    if not cancelled and answered_on_our_page(routing.route_for_payment(db, payment)):
        approved = payment.buyer_approved
    return finish(db, payment, approved, actor)


def record_test_answer(db: Session, payment: Payment, approved: bool) -> None:
    """The customer's answer on our test approval page (to a payment payment_for_test_page
    found, locked), kept until the merchant confirms the payment."""
    payment.buyer_approved = approved
    payment.updated_at = utcnow()
    db.add(payment)


def payment_for_test_page(db: Session, payment_id: str, *, lock: bool = False) -> Payment | None:
    """The payment our test approval page may answer, reached by its id alone: test mode,
    waiting for its customer, at a processor that asks us for the answer; else None."""
    payment = db.get(Payment, payment_id, with_for_update=lock)
    if (
        payment is None
        or payment.livemode
        or payment.status != PaymentStatus.REQUIRES_ACTION
        or not answered_on_our_page(routing.route_for_payment(db, payment))
    ):
        return None
    return payment
