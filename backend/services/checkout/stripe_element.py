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

from backend.core.config import get_settings
from backend.models import CheckoutSession


def live_card_element(session: CheckoutSession) -> bool:
    """Whether the page shows Stripe's Payment Element (Stripe keys set) or the sandbox form."""
    settings = get_settings()
    return bool(settings.stripe_secret_key and settings.stripe_publishable_key)


def publishable_key() -> str:
    return get_settings().stripe_publishable_key or ""


def sandbox_card_form() -> bool:
    """Whether customer pages may take card numbers in the sandbox's own form (no Stripe keys:
    the sandbox processor takes the test cards). With Stripe, card details go through Stripe's
    Payment Element only."""
    settings = get_settings()
    return not (settings.stripe_secret_key and settings.stripe_publishable_key)
