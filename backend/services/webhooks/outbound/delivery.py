"""Delivering one webhook: claim a due delivery with a lease, POST it signed, record the attempt.

Flow
  1. The service layer writes DomainEvents (the outbox) in the transaction of each change.
  2. fanout.dispatch_outbox turns each undispatched event into one WebhookDelivery per enabled,
     subscribed endpoint.
  3. `deliver` claims one due delivery with a lease, POSTs it with no database lock held and
     records the attempt. A 2xx answer: succeeded, never sent again. Anything else: retried on
     the schedule of schedule.py; after RETRY_WINDOW the delivery fails and the merchant's owner
     is e-mailed. An endpoint failing continuously for DISABLE_AFTER is disabled.

Lease (lease.py, shared with the inbound queue): a worker owns an attempt by a conditional UPDATE
(status pending, due, lease free or expired) that sets locked_until = now + lease. Only one worker
can change that row, so two never send one delivery at once; a worker that dies mid-attempt leaves
a lease that expires, and the sweep hands the delivery to another. Recording the outcome checks
that locked_until still holds this worker's lease (a fencing token): a worker that lost its lease
logs its attempt but changes nothing else. A success is final: only pending deliveries can be
claimed or redelivered.

One attempt, one outcome: whatever goes wrong between the claim and the answer (a refused or
malformed URL, a TLS or connection error, an exception in our own code) is recorded as a failed
attempt with its kind (failures.py) and follows the retry schedule; nothing raises into the job
runner, which would otherwise hand the delivery out again at every sweep, forever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Update
from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.integrations import email
from backend.models import (
    DomainEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    utcnow,
)
from backend.models.enums import DeliveryStatus, EndpointStatus
from backend.services.webhooks.lease import (
    NOW,
    claim_statement,
    holds_lease,
    lease_free,
    locked_row,
    try_claim,
)
from backend.services.webhooks.outbound import schedule, sending, signing
from backend.services.webhooks.outbound.endpoints import disable, signing_secrets
from backend.services.webhooks.outbound.failures import FailureKind, classify
from backend.services.webhooks.outbound.notices import notify_disabled, notify_failing
from backend.services.webhooks.outbound.schedule import DISABLE_AFTER
from backend.services.webhooks.outbound.sending import Response, clean
from backend.services.webhooks.outbound.urls import UrlRefused, check_url

log = logging.getLogger(__name__)

_MAX_ERROR = 500
_USER_AGENT = "PayPortal-Webhooks/1.0"


def due_deliveries(
    db: Session,
    *,
    now: datetime | None = None,
    limit: int = 500,
    endpoint_id: str | None = None,
) -> list[str]:
    """Pending deliveries whose time has come and whose lease (if any) has expired; of one
    endpoint only if endpoint_id is given."""
    now = now or utcnow()
    query = (
        select(WebhookDelivery.id)
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
            col(WebhookDelivery.next_attempt_at) <= now,
            lease_free(WebhookDelivery, now, expired_at_now=True),
        )
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
    )
    if endpoint_id is not None:
        query = query.where(col(WebhookDelivery.endpoint_id) == endpoint_id)
    return list(db.exec(query).all())


def _lease() -> timedelta:
    # Well past the longest attempt (connect, write and read timeouts in turn) plus recording.
    return timedelta(seconds=max(60.0, 4 * get_settings().webhook_timeout_seconds))


@dataclass(frozen=True)
class Job:
    delivery_id: str
    endpoint_id: str
    lease: datetime
    endpoint: WebhookEndpoint  # as read in the claim's transaction (detached)
    event: DomainEvent


@dataclass(frozen=True)
class AttemptResult:
    delivery_id: str
    status: str  # the delivery's stored status afterwards (pending, succeeded or failed)
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None


def deliver(delivery_id: str, *, now: datetime | None = None) -> AttemptResult | None:
    """Make one attempt at a due delivery. None when there is nothing to do: it is not due,
    another worker holds it, it has already succeeded or failed, or its endpoint is disabled.

    Whatever goes wrong once the delivery is claimed ends as a recorded failed attempt that
    follows the retry schedule: this never raises for a bad URL, a library error or a bug in
    building the request (only when the database itself fails, and then the lease makes the
    next try wait)."""
    now = now or utcnow()
    job = claim(delivery_id, now)
    if job is None:
        return None
    try:
        response = _attempt(job, now)
    except Exception as exc:  # the boundary of one attempt
        log.exception("webhook delivery %s: the attempt failed unexpectedly", delivery_id)
        failure = classify(exc, get_settings().webhook_timeout_seconds)
        response = Response(None, 0, None, clean(failure.detail), failure.kind)
    result, queued_emails = record(job, response, now)
    for email_id in queued_emails:  # after the commit: no lock held while SendGrid answers
        email.send_recorded(email_id)
    return result


@cache
def _claim_statement() -> Update:
    # Due, and a lease that ended at `now` itself is free (the inbound queue waits past it).
    return claim_statement(
        WebhookDelivery,
        col(WebhookDelivery.next_attempt_at) <= NOW,
        pending=DeliveryStatus.PENDING,
        expired_at_now=True,
    )


def claim(delivery_id: str, now: datetime) -> Job | None:
    """Take the lease on a due pending delivery (and count the attempt); None when it is not
    ours to send: not due, held by another worker, done, or its endpoint disabled."""
    lease = now + _lease()
    with session_scope() as db:
        if not try_claim(db, _claim_statement(), delivery_id, now=now, until=lease):
            return None
        delivery = db.exec(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)).one()
        endpoint = db.get(WebhookEndpoint, delivery.endpoint_id)
        event = db.get(DomainEvent, delivery.event_id)
        if endpoint is None or event is None:
            return None
        if endpoint.status != EndpointStatus.ENABLED:  # disabled since it was queued
            delivery.status, delivery.locked_until, delivery.next_attempt_at = (
                DeliveryStatus.FAILED,
                None,
                None,
            )
            delivery.attempts -= 1  # nothing was sent
            delivery.last_error = "endpoint disabled"
            delivery.last_error_code = FailureKind.ENDPOINT_DISABLED
            db.add(delivery)
            return None
        # Only reads here: building the request (which can fail) happens in _attempt, inside
        # the boundary that turns any failure into a recorded attempt.
        return Job(delivery.id, endpoint.id, lease, endpoint, event)


def _attempt(job: Job, now: datetime) -> Response:
    try:
        secrets = signing_secrets(job.endpoint, now)
    except ValueError:  # ENCRYPTION_KEY changed: a failed attempt, not a crash on every sweep
        return Response(
            None,
            0,
            None,
            "cannot decrypt the signing secret (ENCRYPTION_KEY?)",
            FailureKind.SECRET_UNREADABLE,
        )
    try:  # again at each attempt: DNS may have changed, and the row may hold anything
        address = check_url(job.endpoint.url, livemode=job.endpoint.livemode)
    except UrlRefused as exc:
        return Response(None, 0, None, clean(f"refused: {exc.message}"), exc.kind)
    body = signing.event_body(job.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        "Accept-Encoding": "identity",  # the excerpt is read raw: no decompression bombs
        signing.SIGNATURE_HEADER: signing.sign(body, secrets, int(now.timestamp())),
        "PayPortal-Delivery-Id": job.delivery_id,
    }
    return sending.post(
        job.endpoint.url, address, body, headers, get_settings().webhook_timeout_seconds
    )


def record(job: Job, response: Response, now: datetime) -> tuple[AttemptResult, list[str]]:
    """Log the attempt and move the delivery on; the e-mails to send once this commits."""
    emails: list[str] = []
    with session_scope() as db:
        # Endpoint before delivery, the order every unit of work here locks them in.
        endpoint = db.exec(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.id == job.endpoint_id)
            # FOR NO KEY UPDATE: deliveries being inserted for this endpoint need not wait.
            .with_for_update(key_share=True)
        ).first()
        delivery = locked_row(db, WebhookDelivery, job.delivery_id)
        if endpoint is None or delivery is None:  # deleted while we were sending
            return AttemptResult(job.delivery_id, "deleted", response.status_code, None, None), []
        db.add(
            WebhookDeliveryAttempt(
                id=new_id("wha"),
                delivery_id=delivery.id,
                attempted_at=now,
                status_code=response.status_code,
                latency_ms=response.latency_ms,
                error=response.error[:_MAX_ERROR] if response.error else None,
                error_code=None if response.ok else response.kind,
                response_excerpt=response.excerpt,
            )
        )
        if holds_lease(delivery, job.lease, pending=DeliveryStatus.PENDING):
            emails = _apply_outcome(db, endpoint, delivery, response, now)
        # else: the lease ran out and another worker took over; the log keeps this attempt.
        return (
            AttemptResult(
                delivery.id,
                delivery.status,
                response.status_code,
                response.error,
                delivery.next_attempt_at,
            ),
            emails,
        )


def _apply_outcome(
    db: Session,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    response: Response,
    now: datetime,
) -> list[str]:
    delivery.locked_until = None
    delivery.last_status_code = response.status_code
    delivery.last_error = response.error[:_MAX_ERROR] if response.error else None
    delivery.last_error_code = None if response.ok else response.kind
    db.add(delivery)
    db.add(endpoint)
    if response.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.SUCCEEDED,
            now,
            None,
        )
        endpoint.failing_since, endpoint.consecutive_failures = None, 0
        endpoint.last_success_at = max(now, endpoint.last_success_at or now)
        return []

    emails: list[str] = []
    endpoint.consecutive_failures += 1
    delivery.next_attempt_at = schedule.next_attempt_at(delivery.created_at, delivery.attempts, now)
    if delivery.next_attempt_at is None:
        delivery.status = DeliveryStatus.FAILED
        emails += notify_failing(db, endpoint, now)
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if endpoint.status == EndpointStatus.ENABLED and now - endpoint.failing_since >= DISABLE_AFTER:
        db.flush()  # this delivery's own state first; disable then fails what is still pending
        disable(db, endpoint, f"Deliveries failed continuously for {DISABLE_AFTER.days} days", now)
        db.refresh(delivery)
        emails += notify_disabled(db, endpoint, now)
    return emails
