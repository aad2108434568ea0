"""Stripe-shaped webhook events for tests and the benchmark, signed the way Stripe signs them.

The objects have the fields and shapes of tests/fakes/stripe_api.py (itself Stripe's wire
format): PaymentIntents, Charges, Refunds, Disputes and the Event envelope around them.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

import stripe

SECRET = "whsec_test_" + "a1" * 16
OLD_SECRET = "whsec_test_" + "b2" * 16  # the one a rotation replaces
API_VERSION = "2025-09-30.clover"


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


def signature(payload: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def signed(
    event: dict[str, Any], secret: str = SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Stripe would POST for this event."""
    payload = dumps(event)
    headers = {
        "Stripe-Signature": signature(payload, secret, timestamp),
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    return payload.encode(), headers


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def event(
    type_: str, obj: dict[str, Any], *, created: int | None = None, livemode: bool = False
) -> dict[str, Any]:
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created if created is not None else int(time.time()),
        "data": {"object": copy.deepcopy(obj)},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": new_id("req"), "idempotency_key": None},
        "type": type_,
    }


def _base(prefix: str, created: int | None = None) -> dict[str, Any]:
    return {
        "id": new_id(prefix),
        "created": created or int(time.time()),
        "livemode": False,
        "metadata": {},
    }


def payment_intent(
    amount: int = 10_000,
    currency: str = "usd",
    *,
    status: str = "requires_payment_method",
    metadata: dict[str, str] | None = None,
    capture_method: str = "automatic",
) -> dict[str, Any]:
    pi = {
        **_base("pi"),
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "confirmation_method": "automatic",
        "currency": currency,
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": None,
        "next_action": None,
        "payment_method": new_id("pm"),
        "payment_method_types": ["card"],
        "receipt_email": None,
        "status": status,
    }
    pi["client_secret"] = f"{pi['id']}_secret_{secrets.token_hex(12)}"
    pi["metadata"] = dict(metadata or {})
    return pi


def charge(pi: dict[str, Any], *, failure: tuple[str, str, str] | None = None) -> dict[str, Any]:
    """A charge of the PaymentIntent; failure = (code, decline_code, message)."""
    captured = failure is None and pi["capture_method"] != "manual"
    ch = {**_base("ch"), "object": "charge", "amount": pi["amount"], "captured": captured}
    ch |= {"amount_captured": pi["amount"] if captured else 0, "amount_refunded": 0}
    ch |= {"currency": pi["currency"], "disputed": False, "refunded": False}
    ch |= {"payment_intent": pi["id"], "payment_method": pi["payment_method"]}
    ch |= {"status": "failed" if failure else "succeeded", "paid": failure is None}
    ch["failure_code"], reason, ch["failure_message"] = failure or (None, None, None)
    ch["outcome"] = {"type": "issuer_declined" if failure else "authorized", "reason": reason}
    card = {"brand": "visa", "last4": "4242", "country": "US", "exp_month": 12, "exp_year": 2030}
    ch["payment_method_details"] = {"type": "card", "card": card | {"network": "visa"}}
    ch["refunds"] = {"object": "list", "data": [], "has_more": False, "total_count": 0}
    return ch


def refund(ch: dict[str, Any], amount: int, *, status: str = "succeeded") -> dict[str, Any]:
    re = {**_base("re"), "object": "refund", "amount": amount, "charge": ch["id"]}
    re |= {"currency": ch["currency"], "payment_intent": ch["payment_intent"]}
    re |= {"status": status, "failure_reason": None, "reason": "requested_by_customer"}
    return re


def refunded_charge(ch: dict[str, Any], refunds: list[dict[str, Any]]) -> dict[str, Any]:
    """The charge as charge.refunded shows it, listing its refunds."""
    out = copy.deepcopy(ch)
    booked = [r for r in refunds if r["status"] in ("pending", "succeeded")]
    out["amount_refunded"] = sum(r["amount"] for r in booked)
    out["refunded"] = out["amount_refunded"] == out["amount_captured"]
    out["refunds"] = {
        "object": "list",
        "data": copy.deepcopy(refunds),
        "has_more": False,
        "total_count": len(refunds),
    }
    return out


def dispute(ch: dict[str, Any], amount: int, *, status: str = "needs_response") -> dict[str, Any]:
    dp = {**_base("dp"), "object": "dispute", "amount": amount, "charge": ch["id"]}
    dp |= {"currency": ch["currency"], "payment_intent": ch["payment_intent"]}
    dp |= {"reason": "fraudulent", "status": status, "is_charge_refundable": False}
    dp["evidence_details"] = {"due_by": int(time.time()) + 21 * 86400, "has_evidence": False}
    return dp


def with_(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A later snapshot of the same object."""
    return {**copy.deepcopy(obj), **changes}
