"""Card testing: the hosted checkout refuses to serve as a card checker.

Card testers run lists of stolen card numbers through a payment page to learn which ones work:
many attempts, nearly all declined. Two limits stop them, as Stripe's Checkout does, and leave
a customer who mistypes once or twice alone:

- Per checkout session (a payment link's visit opens one too): after MAX_SESSION_DECLINES
  declined attempts the session is locked. backend/services/checkout/paying.py expires it at
  once, so nothing more can be paid on it, the merchant's integration hears
  `checkout.session.expired` and the audit log says why; the page tells the customer to start
  again from the merchant.
- Per network address, across sessions: after ADDRESS_DECLINES, further attempts from that
  address are refused before any gateway is called (and payment links open no new session for
  it) until the oldest of those declines leaves the window. Live mode counts across every
  merchant of the platform; test mode per merchant, because every merchant tests with the same
  published cards, often from the same address (risk_rules.py's velocity rules do the same).

A decline is a failed payment that the card's issuer, the 3-D Secure check or the merchant's
risk rules refused. A processor that could not be reached is nobody's fault and does not count;
nor does a payment that succeeded, nor input refused before any charge (a mistyped number is
caught in the browser, an unknown test card by the sandbox).

The session count is read from the session's own payments (the database: every worker sees
it). The address count lives in the `limits` store of backend/core/throttle.py: Redis when
REDIS_URL is set, which several workers need anyway, the process's memory with one worker.
IPv6 addresses count per /64, the block one subscriber holds.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.core import throttle
from backend.gateways.base import OUTCOME_UNKNOWN_CODES
from backend.models import Payment
from backend.models.enums import PaymentStatus
from backend.services.identity.login_throttle import throttle_key

MAX_SESSION_DECLINES = 5
ADDRESS_DECLINES = "10 per 10 minutes"
# Failure codes of payments that no card, bank or risk rule refused: the processor's trouble,
# or the customer cancelling on PayPal's approval page.
NOT_DECLINES = frozenset({"gateway_unavailable", "payment_canceled", *OUTCOME_UNKNOWN_CODES})


def is_decline(payment: Payment) -> bool:
    return payment.status == PaymentStatus.FAILED and payment.failure_code not in NOT_DECLINES


def order_declines(db: Session, order_id: str) -> int:
    """How many payment attempts on the order were declined."""
    return db.exec(
        select(func.count())
        .select_from(Payment)
        .where(
            Payment.order_id == order_id,
            Payment.status == PaymentStatus.FAILED,
            col(Payment.failure_code).not_in(NOT_DECLINES),
        )
    ).one()


def _address(ip_address: str | None, merchant_id: str, livemode: bool) -> tuple[str, ...] | None:
    key = throttle_key(ip_address)
    if key is None:
        return None
    if livemode:
        return ("checkout-declines", "live", key)
    return ("checkout-declines", "test", merchant_id, key)


def address_wait(ip_address: str | None, merchant_id: str, livemode: bool) -> int:
    """Seconds until this address may try to pay again; 0 when it may now."""
    keys = _address(ip_address, merchant_id, livemode)
    return throttle.wait_seconds(ADDRESS_DECLINES, *keys) if keys else 0


def count_address_decline(ip_address: str | None, merchant_id: str, livemode: bool) -> int:
    """Count one decline from this address; the seconds it must now wait (0: none)."""
    keys = _address(ip_address, merchant_id, livemode)
    if keys is None:
        return 0
    throttle.count(ADDRESS_DECLINES, *keys)
    return throttle.wait_seconds(ADDRESS_DECLINES, *keys)
