"""PayPal's webhook events: checked with PayPal and parsed into what the inbound queue stores.

Verification uses PayPal's documented verify-webhook-signature call (POST
/v1/notifications/verify-webhook-signature) with the five PAYPAL-* transmission headers, the
webhook id of the app's subscription and the event, and accepts only `verification_status:
SUCCESS`. We chose it over the offline certificate check (CRC32 of the body, then the
certificate at PAYPAL-CERT-URL verifying the RSA-SHA256 signature) because that one needs us to
fetch, pin and cache PayPal's certificate chain from the URL the request itself names, with its
own ways to go wrong; the API call is PayPal's recommended path, costs one request per event,
and the tests drive it against the local fake. Its cost: when PayPal is down an event cannot be
verified; we answer 503 and PayPal retries (for up to three days), so nothing is lost.

Parsing never trusts the body further than its shape: an event has an id, an event_type, a
create_time and a resource object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.gateways.base import GatewayUnavailable
from backend.gateways.paypal.client import PayPalClient, PayPalError

HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}
MAX_HEADER = 2000


class WebhookRejected(Exception):
    """Not a genuine PayPal event: the endpoint answers 400 with `code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PayPalEvent:
    event_id: str
    type: str
    created: datetime
    resource: dict[str, Any]
    payload: str  # the exact text PayPal sent


def parse(body: bytes) -> PayPalEvent:
    try:
        text = body.decode("utf-8")
        event = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebhookRejected("invalid_json", "The body is not UTF-8 JSON") from None
    shaped = (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("event_type"), str)
        and 0 < len(event["event_type"]) <= 100
        and isinstance(event.get("create_time"), str)
        and isinstance(event.get("resource"), dict)
    )
    if not shaped:
        raise WebhookRejected(
            "invalid_event",
            "The body is not a PayPal event (id, event_type, create_time, resource)",
        )
    created = parse_time(event["create_time"])
    if created is None:
        raise WebhookRejected("invalid_event", "The event's create_time is not a time")
    return PayPalEvent(event["id"], event["event_type"], created, event["resource"], text)


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def transmission(headers: Any) -> dict[str, str]:
    """The five PAYPAL-* headers the check needs (`headers`: any case-insensitive mapping)."""
    found = {}
    for field, header in HEADERS.items():
        value = headers.get(header)
        if not value or len(value) > MAX_HEADER:
            raise WebhookRejected("signature_missing", f"The {header.upper()} header is missing")
        found[field] = value
    return found


def verify(client: PayPalClient, webhook_id: str, headers: Any, body: bytes) -> PayPalEvent:
    """The event, once PayPal confirms it sent it to this webhook id. GatewayUnavailable when
    PayPal cannot be asked (the endpoint answers 503: PayPal retries)."""
    sent = transmission(headers)
    event = parse(body)
    request = {**sent, "webhook_id": webhook_id, "webhook_event": json.loads(event.payload)}
    try:
        answer = client.request("POST", "/v1/notifications/verify-webhook-signature", body=request)
    except PayPalError as err:
        raise WebhookRejected("signature_invalid", f"PayPal refused the check: {err}") from err
    except GatewayUnavailable:
        raise
    if answer.get("verification_status") != "SUCCESS":
        raise WebhookRejected(
            "signature_invalid", "PayPal says this event was not sent to this webhook"
        )
    return event
