"""The words a merchant's customer reads for billing's codes, on the billing portal, the hosted
invoice page and the invoice PDF. They are not the merchant's words (backend.services.labels):
a customer is told what a state means for them ("Payment overdue"), never a code."""

from __future__ import annotations

from backend.services import labels

SUBSCRIPTION_STATUS: dict[str, str] = {
    "trialing": "Free trial",
    "active": "Active",
    "past_due": "Payment overdue",
    "canceled": "Canceled",
    "unpaid": "Unpaid",
    "incomplete": "Awaiting first payment",
    "incomplete_expired": "Expired",
    "paused": "Paused",
}

INVOICE_STATUS: dict[str, str] = {
    "draft": "Draft",
    "open": "Due",
    "paid": "Paid",
    "uncollectible": "Overdue",
    "void": "Canceled",
}

# An invoice the customer can still pay: open, or given up on by the merchant (uncollectible
# invoices may still be paid, as Stripe's).
PAYABLE = frozenset({"open", "uncollectible"})


def subscription_status(code: str | None) -> str:
    return SUBSCRIPTION_STATUS.get(str(code or "")) or labels.words(code)


def invoice_status(code: str | None) -> str:
    return INVOICE_STATUS.get(str(code or "")) or labels.words(code)


def every(interval: str | None, count: int | None) -> str:
    """ "month", "3 months": what "per …" follows in "$15.00 per month"."""
    return labels.recurrence(interval, count).removeprefix("every ")
