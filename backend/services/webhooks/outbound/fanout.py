"""Fan-out from the outbox: each undispatched DomainEvent becomes one WebhookDelivery per enabled,
subscribed endpoint of the same merchant and mode, and is marked dispatched, in one transaction
(FOR UPDATE SKIP LOCKED on PostgreSQL, so several dispatchers share the work)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.core.ids import new_id
from backend.models import DomainEvent, WebhookDelivery, WebhookEndpoint, utcnow
from backend.models.enums import DeliveryStatus, EndpointStatus


def _subscribed(endpoint: WebhookEndpoint, event: DomainEvent) -> bool:
    wanted = "*" in endpoint.enabled_events or event.type in endpoint.enabled_events
    # An endpoint receives the events that happened after it was registered, as Stripe does.
    return wanted and endpoint.created_at <= event.created_at


@dataclass(frozen=True)
class Dispatched:
    events: int  # events taken from the outbox (a full batch means more may be waiting)
    deliveries: list[str]  # the new deliveries' ids


def dispatch_outbox(db: Session, limit: int = 500, *, now: datetime | None = None) -> Dispatched:
    """One delivery per subscribed endpoint for each of up to `limit` undispatched events.

    Runs in the caller's unit of work: the deliveries and the events' dispatched_at commit
    together, so an event is fanned out exactly once (SKIP LOCKED lets concurrent dispatchers
    take different events instead of waiting on each other).
    """
    now = now or utcnow()
    batch = db.exec(
        select(DomainEvent)
        .where(col(DomainEvent.dispatched_at).is_(None))
        .order_by(col(DomainEvent.created_at), col(DomainEvent.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not batch:
        return Dispatched(0, [])
    merchants = {event.merchant_id for event in batch}
    endpoints: dict[tuple[str, bool], list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in db.exec(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.merchant_id).in_(merchants),
            WebhookEndpoint.status == EndpointStatus.ENABLED,
        )
    ):
        endpoints[(endpoint.merchant_id, endpoint.livemode)].append(endpoint)
    created: list[str] = []
    for event in batch:
        for endpoint in endpoints[(event.merchant_id, event.livemode)]:
            if _subscribed(endpoint, event):
                delivery = new_delivery(endpoint, event, now)
                db.add(delivery)
                created.append(delivery.id)
        event.dispatched_at = now
        db.add(event)
    return Dispatched(len(batch), created)


def new_delivery(endpoint: WebhookEndpoint, event: DomainEvent, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        id=new_id("whd"),
        merchant_id=endpoint.merchant_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
