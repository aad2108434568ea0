"""Deliveries as merchants see and act on them: their state, the delivery log and one delivery's
detail, redelivery, test events, and the public shapes the API and the portal show.

States (`delivery_state`), derived from stored facts: pending (never tried), retrying (attempt n
of N failed, next at T), succeeded, failed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.models import (
    DomainEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    utcnow,
)
from backend.models.enums import DeliveryStatus
from backend.services.context import Scope
from backend.services.representations import timestamp
from backend.services.webhooks.outbound.endpoints import (
    endpoint_to_dict,
    get_endpoint,
    require_enabled,
)
from backend.services.webhooks.outbound.failures import failure_kind, reason
from backend.services.webhooks.outbound.fanout import new_delivery
from backend.services.webhooks.outbound.schedule import planned_attempts

TEST_EVENT_TYPE = "webhook.test"  # sent by send_test_event only; nobody subscribes to it


@dataclass(frozen=True)
class DeliveryState:
    """A delivery as people and the API see it, derived from its stored facts."""

    status: str  # pending (never tried), retrying, succeeded or failed
    attempt: int  # attempts made so far (one in flight is not counted yet)
    max_attempts: int  # attempts in all on the nominal schedule (jitter may add a few)
    next_attempt_at: datetime | None
    reason_code: str | None  # why the last attempt failed (a FailureKind); None if it did not
    reason: str | None  # the same in plain words


def delivery_state(delivery: WebhookDelivery, now: datetime | None = None) -> DeliveryState:
    now = now or utcnow()
    if delivery.status == DeliveryStatus.SUCCEEDED:
        made = delivery.attempts
        return DeliveryState("succeeded", made, made, None, None, None)
    kind = failure_kind(delivery.last_error_code, delivery.last_status_code, delivery.last_error)
    why = reason(kind, delivery.last_status_code, delivery.last_error)
    if delivery.status == DeliveryStatus.FAILED:
        made = delivery.attempts
        return DeliveryState("failed", made, made, None, kind, why)
    in_flight = delivery.locked_until is not None and delivery.locked_until > now
    made = delivery.attempts - (1 if in_flight else 0)
    next_at = delivery.next_attempt_at or now
    planned = planned_attempts(delivery.created_at, made, next_at)
    if made == 0:
        return DeliveryState("pending", 0, planned, next_at, None, None)
    if why is None:  # claimed by a worker that stopped before recording anything
        why = "The last attempt did not finish; it is tried again"
    return DeliveryState("retrying", made, planned, next_at, kind, why)


def _owned_delivery(
    db: Session, scope: Scope, delivery_id: str, *, lock: bool = False
) -> WebhookDelivery:
    query = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.merchant_id == scope.merchant_id,
            WebhookEndpoint.livemode == scope.livemode,
        )
    )
    if lock:
        query = query.with_for_update(of=WebhookDelivery)
    found = db.exec(query).first()
    if found is None:
        raise NotFound(f"No such webhook delivery: {delivery_id!r}", param="deliveryId")
    return found


def redeliver(
    db: Session, scope: Scope, delivery_id: str, *, now: datetime | None = None
) -> WebhookDelivery:
    """Make a failed (or waiting) delivery due now. A delivered one is never sent again."""
    delivery = _owned_delivery(db, scope, delivery_id, lock=True)
    if delivery.status == DeliveryStatus.SUCCEEDED:
        raise Conflict(
            "This delivery has already succeeded; an event is never delivered twice",
            code="delivery_succeeded",
        )
    endpoint = db.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None  # the join above found it
    require_enabled(endpoint)
    # locked_until is left alone: an attempt in flight keeps its lease and records its outcome.
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now or utcnow()
    db.add(delivery)
    return delivery


def redeliver_failed(
    db: Session, scope: Scope, endpoint_id: str, since: datetime, *, now: datetime | None = None
) -> int:
    """Make every failed delivery of the endpoint created at or after `since` due now."""
    if since.tzinfo is None:
        raise ValidationFailed("since must carry a time zone", param="since")
    endpoint = get_endpoint(db, scope, endpoint_id)
    require_enabled(endpoint)
    result = db.exec(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.status) == DeliveryStatus.FAILED,
            col(WebhookDelivery.created_at) >= since,
        )
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now or utcnow())
    )
    return result.rowcount or 0


def send_test_event(
    db: Session, scope: Scope, endpoint_id: str, *, now: datetime | None = None
) -> WebhookDelivery:
    """A "webhook.test" event for this endpoint alone (never fanned out to the others)."""
    endpoint = get_endpoint(db, scope, endpoint_id)
    require_enabled(endpoint)
    now = now or utcnow()
    event = DomainEvent(
        id=new_id("evt"),
        merchant_id=endpoint.merchant_id,
        livemode=endpoint.livemode,
        type=TEST_EVENT_TYPE,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        data={"object": endpoint_to_dict(endpoint), "message": "A test event from PayPortal"},
        created_at=now,
        dispatched_at=now,  # already routed: the dispatcher must not fan it out
    )
    db.add(event)
    db.flush()  # the delivery references the event
    delivery = new_delivery(endpoint, event, now)
    db.add(delivery)
    return delivery


@dataclass(frozen=True)
class LoggedDelivery:
    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookDeliveryAttempt]


def delivery_log(
    db: Session,
    scope: Scope,
    endpoint_id: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[LoggedDelivery], str | None]:
    """The endpoint's deliveries, newest first, each with its attempts; and the next cursor."""
    endpoint = get_endpoint(db, scope, endpoint_id)
    query = (
        select(WebhookDelivery, DomainEvent.type)
        .join(DomainEvent, col(DomainEvent.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(col(WebhookDelivery.id).desc())  # ids are time-ordered
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(col(WebhookDelivery.id) < cursor)
    rows = db.exec(query).all()
    page, more = rows[:limit], len(rows) > limit
    attempts: dict[str, list[WebhookDeliveryAttempt]] = defaultdict(list)
    if page:
        for attempt in db.exec(
            select(WebhookDeliveryAttempt)
            .where(col(WebhookDeliveryAttempt.delivery_id).in_([d.id for d, _ in page]))
            .order_by(col(WebhookDeliveryAttempt.attempted_at), col(WebhookDeliveryAttempt.id))
        ):
            attempts[attempt.delivery_id].append(attempt)
    logged = [LoggedDelivery(d, event_type, attempts[d.id]) for d, event_type in page]
    return logged, (page[-1][0].id if more else None)


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: WebhookDelivery
    event: DomainEvent
    attempts: list[WebhookDeliveryAttempt]


def delivery_detail(db: Session, scope: Scope, delivery_id: str) -> DeliveryDetail:
    """One delivery with its event (whose exact body event_body gives) and every attempt."""
    delivery = _owned_delivery(db, scope, delivery_id)
    event = db.get(DomainEvent, delivery.event_id)
    assert event is not None  # deliveries reference their event
    attempts = db.exec(
        select(WebhookDeliveryAttempt)
        .where(WebhookDeliveryAttempt.delivery_id == delivery.id)
        .order_by(col(WebhookDeliveryAttempt.attempted_at), col(WebhookDeliveryAttempt.id))
    ).all()
    return DeliveryDetail(delivery, event, list(attempts))


def attempt_to_dict(attempt: WebhookDeliveryAttempt) -> dict[str, Any]:
    return {
        "attemptedAt": timestamp(attempt.attempted_at),
        "statusCode": attempt.status_code,
        "latencyMs": attempt.latency_ms,
        "reasonCode": failure_kind(attempt.error_code, attempt.status_code, attempt.error),
        "reason": reason(attempt.error_code, attempt.status_code, attempt.error),
        "error": attempt.error,
        "responseExcerpt": attempt.response_excerpt,
    }


def delivery_view(db: Session, delivery: WebhookDelivery) -> dict[str, Any]:
    """A delivery's public shape with its event's type (no attempts)."""
    event = db.get(DomainEvent, delivery.event_id)
    return delivery_to_dict(delivery, event.type if event else None)


def delivery_to_dict(
    delivery: WebhookDelivery,
    event_type: str | None = None,
    attempts: Sequence[WebhookDeliveryAttempt] | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    state = delivery_state(delivery, now)
    body: dict[str, Any] = {
        "id": delivery.id,
        "object": "webhook_delivery",
        "endpointId": delivery.endpoint_id,
        "eventId": delivery.event_id,
        "eventType": event_type,
        "status": state.status,
        "attempt": state.attempt,
        "maxAttempts": state.max_attempts,
        "nextAttemptAt": timestamp(state.next_attempt_at),
        "reasonCode": state.reason_code,
        "reason": state.reason,
        "attemptCount": delivery.attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "createdAt": timestamp(delivery.created_at),
        "deliveredAt": timestamp(delivery.delivered_at),
    }
    if attempts is not None:
        body["attempts"] = [attempt_to_dict(a) for a in attempts]
    return body
