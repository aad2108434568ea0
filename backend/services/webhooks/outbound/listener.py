"""`webhooks listen`: a merchant's test-mode events forwarded to a URL on the developer's own
machine, as they happen, through the normal delivery machinery (like `stripe listen`).

Listening registers a temporary test-mode endpoint for the local URL, so the merchant's real
endpoints keep receiving every event as before (nothing is taken from them); the events are
signed with that endpoint's own secret, retried on the usual schedule and logged like any
other delivery. `attempts_since` reads what happened to each one, whoever sent it (the
listener itself or a worker); `stop` deletes the endpoint with its log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import col, select

from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import DomainEvent, Merchant, WebhookDelivery, WebhookDeliveryAttempt, utcnow
from backend.services.context import Scope
from backend.services.webhooks.outbound import deliveries as webhook_deliveries
from backend.services.webhooks.outbound import delivery as webhook_delivery
from backend.services.webhooks.outbound import endpoints as webhook_endpoints
from backend.services.webhooks.outbound.failures import reason
from backend.services.webhooks.outbound.urls import LOOPBACK_HOSTS

DESCRIPTION = "Temporary: python -m backend webhooks listen (removed when it stops)"


@dataclass(frozen=True)
class Listening:
    merchant_id: str
    endpoint_id: str
    url: str
    secret: str  # the temporary endpoint's signing secret, to verify what arrives


@dataclass(frozen=True)
class Forwarded:
    """One attempt at forwarding an event, and where its delivery stands now."""

    attempt_id: str
    attempted_at: datetime
    event_id: str
    event_type: str
    status_code: int | None
    latency_ms: int | None
    reason: str | None  # why it failed, in plain words; None if it succeeded
    state: webhook_deliveries.DeliveryState  # the delivery's state now
    latest: bool  # the delivery's latest attempt (so `state` follows from it)


def _check_local(url: str) -> None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if host not in LOOPBACK_HOSTS:
        raise ValidationFailed(
            "--forward-to must be a URL on this machine: http://localhost:PORT/PATH, "
            "http://127.0.0.1:PORT/PATH or http://[::1]:PORT/PATH",
            param="forward_to",
        )


def start(
    merchant_id: str, forward_to: str, events: list[str] | None = None, *, livemode: bool = False
) -> Listening:
    """Register the temporary endpoint: test mode only, a loopback URL only."""
    if livemode:
        raise ValidationFailed(
            "webhooks listen forwards test-mode events only: live events never go to a "
            "developer's machine",
            param="live",
        )
    _check_local(forward_to)
    with session_scope() as db:
        if db.get(Merchant, merchant_id) is None:
            raise NotFound(f"No such merchant: {merchant_id!r}", param="merchant")
        created = webhook_endpoints.create_endpoint(
            db,
            Scope(merchant_id, livemode=False),
            url=forward_to,
            enabled_events=events or ["*"],
            description=DESCRIPTION,
        )
    return Listening(merchant_id, created.endpoint.id, forward_to, created.secret)


def due(listening: Listening, *, now: datetime | None = None) -> list[str]:
    """The temporary endpoint's deliveries that are due now (first attempts and retries)."""
    now = now or utcnow()
    with session_scope(readonly=True) as db:
        return webhook_delivery.due_deliveries(db, now=now, endpoint_id=listening.endpoint_id)


def attempts_since(
    listening: Listening, since: datetime, *, now: datetime | None = None
) -> list[Forwarded]:
    """Every attempt made at or after `since`, oldest first."""
    now = now or utcnow()
    of_delivery = col(WebhookDelivery.id) == col(WebhookDeliveryAttempt.delivery_id)
    with session_scope(readonly=True) as db:
        rows = db.exec(
            select(WebhookDeliveryAttempt, WebhookDelivery, DomainEvent)
            .join(WebhookDelivery, of_delivery)
            .join(DomainEvent, col(DomainEvent.id) == col(WebhookDelivery.event_id))
            .where(
                WebhookDelivery.endpoint_id == listening.endpoint_id,
                col(WebhookDeliveryAttempt.attempted_at) >= since,
            )
            .order_by(col(WebhookDeliveryAttempt.attempted_at), col(WebhookDeliveryAttempt.id))
        ).all()
    latest: dict[str, str] = {}
    for attempt, delivery, _ in rows:
        latest[delivery.id] = attempt.id
    return [
        Forwarded(
            attempt_id=attempt.id,
            attempted_at=attempt.attempted_at,
            event_id=event.id,
            event_type=event.type,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            reason=reason(attempt.error_code, attempt.status_code, attempt.error),
            state=webhook_deliveries.delivery_state(delivery, now),
            latest=latest[delivery.id] == attempt.id,
        )
        for attempt, delivery, event in rows
    ]


def stop(listening: Listening) -> None:
    """Delete the temporary endpoint and its delivery log (gone already is fine)."""
    try:
        with session_scope() as db:
            webhook_endpoints.delete_endpoint(
                db, Scope(listening.merchant_id, livemode=False), listening.endpoint_id
            )
    except NotFound:
        pass
