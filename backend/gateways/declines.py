"""The card decline codes a customer is told as they are. Any other code a processor gives
(lost, stolen, fraudulent, do_not_honor...) reaches the customer as a plain `card_declined`, as
Stripe recommends: they learn nothing a fraudster could use, the merchant still sees the code."""

from __future__ import annotations

CARD_DECLINED = "card_declined"
CUSTOMER_DECLINE_CODES = (
    "insufficient_funds",
    "expired_card",
    "incorrect_cvc",
    "authentication_failed",
)


def customer_code(code: str | None) -> str:
    """What the customer is told of a decline: its own code when it is one of ours to tell."""
    return code if code in CUSTOMER_DECLINE_CODES else CARD_DECLINED
