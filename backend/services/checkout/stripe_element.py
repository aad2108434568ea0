"""Live-mode card payments on the hosted checkout: Stripe's Payment Element in the browser.

The flow (Stripe's "finalize payments on the server" integration):
  1. The page mounts the Payment Element (`checkout/components/stripe_element.py`) with the
     session's amount and currency; card details go from the customer's browser to Stripe only.
  2. On Pay, the browser calls `elements.submit()` and `stripe.createPaymentMethod({elements})`
     and sends the PaymentMethod id (pm_...) to our pay event.
  3. The server charges it through the payment service, which creates and confirms the
     PaymentIntent with the Stripe gateway and an idempotency key derived from the session and
     attempt (`backend.services.checkout.sessions.pay`).
  4. If Stripe asks for 3-D Secure, the page gets the PaymentIntent's client secret and runs
     `stripe.handleNextAction`; then `checkout.finish_action` reads the PaymentIntent's state
     and completes the session. The payment_intent.succeeded webhook updates the payment too;
     a session whose order was paid that way completes on its next read (`checkout.refresh`).
"""

from __future__ import annotations

from typing import Any

import stripe
from sqlmodel import Session

from backend.core.config import get_settings
from backend.models import CheckoutSession, Payment
from backend.services.payments import routing


def live_card_element(session: CheckoutSession) -> bool:
    """Whether the page shows Stripe's Payment Element (Stripe keys set) or the sandbox form."""
    settings = get_settings()
    return bool(settings.stripe_secret_key and settings.stripe_publishable_key)


def publishable_key() -> str:
    return get_settings().stripe_publishable_key or ""


def client_secret(db: Session, payment: Payment) -> str | None:
    """The client secret of the payment's PaymentIntent, read with the gateway that holds it."""
    route = routing.route_for_payment(db, payment)
    # The gateway's own StripeClient (its key, API base and timeout); the Gateway protocol has
    # no call for this browser-only secret.
    client: Any = getattr(route.gateway, "_client", None)
    if client is None or not payment.gateway_payment_id:
        return None
    try:
        intent = client.v1.payment_intents.retrieve(payment.gateway_payment_id)
    except stripe.StripeError:
        return None
    return getattr(intent, "client_secret", None)
