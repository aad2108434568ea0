"""Inbound Stripe webhooks: verify and store at once, process in the background. (PayPal's are
verified by paypal_receive and stored here the same way, with provider "paypal:<config id>".)

Two endpoints take events: /api/webhooks/stripe for the platform's Stripe account (verified with
STRIPE_WEBHOOK_SECRET) and /api/webhooks/stripe/<gateway config id> for a merchant's own Stripe
account (verified with that processor's signing secret). An event's source is stored with it
(`provider`: "stripe" or "stripe:<config id>"), and processing lets it touch only payments of
that source: a merchant holds its own signing secret, so its events must never reach another
merchant's payments, nor shadow the platform's events by reusing their ids.

The endpoint verifies the signature, stores the raw event (unique per source and event id) and
enqueues it: Stripe has its 200 within milliseconds, and nothing is lost if a worker dies, because
the row, not the queue, records what remains to be done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import stripe
from sqlalchemy import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import (
    InboundWebhookEvent,
    utcnow,
)
from backend.models.enums import InboundEventStatus

log = logging.getLogger(__name__)

PROVIDER = "stripe"
SIGNATURE_TOLERANCE_SECONDS = 300  # Stripe's own default: older signatures are replays
# A queued event nobody took within this time is enqueued again by the sweep (its task was lost).
REDISPATCH = timedelta(seconds=60)

S = InboundEventStatus


# ---------------------------------------------------------------------------------------------
# Receiving: verify and store


class SignatureError(Exception):
    """The request is not a genuine, recent Stripe event: the endpoint answers 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VerifiedEvent:
    event_id: str
    type: str
    livemode: bool
    payload: str  # the exact text Stripe signed
    source: str | None = None  # the gateway config of a merchant's own Stripe account
    provider: str = PROVIDER  # "stripe" or "paypal" (PayPal's always come with a source)


def provider_of(source: str | None, provider: str = PROVIDER) -> str:
    return f"{provider}:{source}" if source else provider


def source_of(provider: str) -> str | None:
    return provider.partition(":")[2] or None


def signing_secrets(configured: str | None) -> list[str]:
    """STRIPE_WEBHOOK_SECRET: several comma-separated secrets are all accepted, so a rotated
    endpoint secret and the one it replaces both verify while Stripe signs with both."""
    return [secret.strip() for secret in (configured or "").split(",") if secret.strip()]


def verify(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    source: str | None = None,
) -> VerifiedEvent:
    """Check the Stripe-Signature header with the stripe SDK, then that the body is an event."""
    if not header:
        raise SignatureError("signature_missing", "The Stripe-Signature header is missing")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("invalid_json", "The body is not UTF-8 JSON") from None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance)
            break
        except stripe.SignatureVerificationError:
            if _signed_with(text, header, secret):  # right secret, so the clock refused it
                raise SignatureError(
                    "timestamp_out_of_tolerance",
                    f"The Stripe-Signature timestamp is more than {tolerance} seconds old",
                ) from None
    else:
        raise SignatureError(
            "signature_invalid",
            "The Stripe-Signature does not match the body for any configured signing secret",
        )
    return _parse(text, source)


def _signed_with(text: str, header: str, secret: str) -> bool:
    try:
        return stripe.WebhookSignature.verify_header(text, header, secret, None)
    except stripe.SignatureVerificationError:
        return False


def _parse(text: str, source: str | None) -> VerifiedEvent:
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):  # nested past the parser's depth: not an event either
        raise SignatureError("invalid_json", "The body is not valid JSON") from None
    shaped = (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and 0 < len(event["type"]) <= 100
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
    if not shaped:
        raise SignatureError(
            "invalid_event", "The body is not a Stripe event (id, type, created, data.object)"
        )
    return VerifiedEvent(event["id"], event["type"], bool(event.get("livemode")), text, source)


def store(event: VerifiedEvent, *, engine: Engine | None = None) -> str | None:
    """Insert one event; its row id, or None when this event id was stored before (Stripe sends
    an event again until it sees a 2xx, and may send it twice anyway)."""
    return store_many([event], engine=engine)[0]


def store_many(
    events: Sequence[VerifiedEvent], *, engine: Engine | None = None
) -> list[str | None]:
    """Insert events in one transaction (group commit): for each, its row id, or None when its
    event id was stored before or earlier in the same batch."""
    now = utcnow()
    rows = [
        {
            "id": new_id("whe"),
            "provider": provider_of(event.source, event.provider),
            "event_id": event.event_id,
            "event_type": event.type,
            "livemode": event.livemode,
            "payload": event.payload,
            "status": S.PENDING,
            "attempts": 0,
            # Its own task should take it at once; if that task is lost, the sweep enqueues it.
            "next_attempt_at": now + REDISPATCH,
            "received_at": now,
        }
        for event in events
    ]
    with session_scope(engine) as db:
        statement = _insert_statement(db.get_bind().dialect.name)
        inserted = set(db.connection().execute(statement, rows).scalars())
    return [row["id"] if row["id"] in inserted else None for row in rows]


@cache
def _insert_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once: the endpoint's hot path."""
    table = InboundWebhookEvent.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(table.c.id)  # type: ignore[attr-defined]
    )
