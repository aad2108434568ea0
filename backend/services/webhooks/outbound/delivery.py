"""Outbound webhooks: merchants' endpoints, fan-out from the outbox, signed delivery, retries.

Flow
  1. The service layer writes DomainEvents (the outbox) in the transaction of each change.
  2. `dispatch_outbox` turns each undispatched event into one WebhookDelivery per enabled,
     subscribed endpoint of the same merchant and mode and marks the event dispatched, in one
     transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, so several dispatchers share the work).
  3. `deliver` claims one due delivery with a lease, POSTs it with no database lock held and
     records the attempt. A 2xx answer: succeeded, never sent again. Anything else: retried on
     the schedule below; after RETRY_WINDOW the delivery fails and the merchant's owner is
     e-mailed. An endpoint failing continuously for DISABLE_AFTER is disabled.

Retry schedule: the nominal wait after the n-th failed attempt is BACKOFF[n-1] (1 min, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h, 10 h, then 12 h each time), shortened by a random 0-50 % so the
deliveries of an endpoint that went down together do not come back together. "Full" jitter
(0-100 %) could retry a few seconds after a 10-hour step, which is no back-off at all. No
attempt is scheduled past created + RETRY_WINDOW (3 days): the last one is moved to exactly
that time, and when it fails the delivery fails. Nominally that is 12 attempts (0, 1 min,
6 min, 36 min, 2 h 36, 7 h 36, 17 h 36, 27 h 36, 37 h 36, 49 h 36, 61 h 36, 72 h); jitter
makes it 12 to 18.

Lease: a worker owns an attempt by a conditional UPDATE (status pending, due, lease free or
expired) that sets locked_until = now + lease. Only one worker can change that row, so two never
send one delivery at once; a worker that dies mid-attempt leaves a lease that expires, and the
sweep hands the delivery to another. Recording the outcome checks that locked_until still holds
this worker's lease (a fencing token): a worker that lost its lease logs its attempt but changes
nothing else. A success is final: only pending deliveries can be claimed or redelivered.

Signature (Stripe's scheme): `PayPortal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed by the endpoint's secret>`. While a rolled secret overlaps, one v1= per
secret, so receivers holding either one verify.

One attempt, one outcome: whatever goes wrong between the claim and the answer (a refused
or malformed URL, a TLS or connection error, an exception in our own code) is recorded as a
failed attempt with its kind (backend/services/webhook_failures.py) and follows the retry
schedule; nothing raises into the job runner, which would otherwise hand the delivery out
again at every sweep, forever.

States, as the API and the portal show them (`delivery_state`), derived from stored facts:
pending (never tried), retrying (attempt n of N failed, next at T), succeeded, failed.

Server-side request forgery and which URLs are valid: backend/services/webhook_urls.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from backend.core import crypto
from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import random_token
from backend.integrations import email
from backend.models import (
    DomainEvent,
    Membership,
    Merchant,
    OutboundEmail,
    User,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    utcnow,
)
from backend.models.enums import DeliveryStatus, EndpointStatus, Role
from backend.services import audit
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.events import EVENT_TYPES
from backend.services.payments.orders import owned
from backend.services.representations import timestamp
from backend.services.webhooks.outbound.failures import FailureKind, classify, failure_kind, reason
from backend.services.webhooks.outbound.urls import UrlRefused, check_url, is_ip

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "PayPortal-Signature"
TEST_EVENT_TYPE = "webhook.test"  # sent by send_test_event only; nobody subscribes to it
SECRET_PREFIX = "whsec_"
MAX_ENDPOINTS = 16  # per merchant and mode
MAX_OVERLAP_HOURS = 7 * 24

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=12),  # and every later one
)
JITTER = 0.5  # each wait is shortened by up to this fraction
RETRY_WINDOW = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
FAILURE_EMAIL_EVERY = timedelta(days=1)  # at most one "deliveries failing" e-mail per endpoint
EXCERPT_BYTES = 2048
_MAX_ERROR = 500
_USER_AGENT = "PayPortal-Webhooks/1.0"

# The jitter's source; tests replace it to get the nominal schedule exactly.
_random: Callable[[], float] = random.random


# ---------------------------------------------------------------------------------------------
# Signing


def sign(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """The PayPortal-Signature header: t=<timestamp>, then v1=<hex> for each secret."""
    signed = f"{timestamp}.".encode() + body
    digests = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={d}" for d in digests)])


def event_body(event: DomainEvent) -> bytes:
    """The exact bytes POSTed (and signed) for an event; the same on every attempt."""
    payload = {
        "id": event.id,
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "livemode": event.livemode,
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# ---------------------------------------------------------------------------------------------
# Endpoints (all tenant-scoped: another merchant's id is simply not found)


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once, at creation or roll


def _validate_events(enabled_events: object) -> list[str]:
    if not isinstance(enabled_events, list) or not enabled_events:
        raise ValidationFailed(
            'enabledEvents must list at least one event type (or "*")', param="enabledEvents"
        )
    unknown = [e for e in enabled_events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            f"Unknown event types {unknown}; choose from {list(EVENT_TYPES)} or '*'",
            param="enabledEvents",
        )
    return ["*"] if "*" in enabled_events else sorted(set(enabled_events))


def _validate_description(description: object) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > 300:
        raise ValidationFailed("description takes at most 300 characters", param="description")
    return description


def _new_secret() -> tuple[str, str]:
    secret = SECRET_PREFIX + random_token(32)
    return secret, crypto.encrypt(secret)


def _audit(
    db: Session, endpoint: WebhookEndpoint, action: str, actor: Actor, **details: Any
) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=endpoint.merchant_id,
        livemode=endpoint.livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        ip_address=actor.ip_address,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        details=details,
    )


def create_endpoint(
    db: Session,
    scope: Scope,
    *,
    url: str,
    enabled_events: list[str],
    description: str | None = None,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> EndpointWithSecret:
    events = _validate_events(enabled_events)
    text = _validate_description(description)
    count = db.exec(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(
            WebhookEndpoint.merchant_id == scope.merchant_id,
            WebhookEndpoint.livemode == scope.livemode,
        )
    ).one()
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed(
            f"At most {MAX_ENDPOINTS} webhook endpoints per mode", code="endpoint_limit_reached"
        )
    check_url(url, livemode=scope.livemode)
    secret, encrypted = _new_secret()
    now = now or utcnow()
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        url=url,  # check_url refuses surrounding whitespace: nothing is trimmed silently
        description=text,
        enabled_events=events,
        secret_encrypted=encrypted,
        created_at=now,
        updated_at=now,
    )
    db.add(endpoint)
    _audit(db, endpoint, "webhook_endpoint.created", actor, url=endpoint.url, enabledEvents=events)
    return EndpointWithSecret(endpoint, secret)


def get_endpoint(
    db: Session, scope: Scope, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint:
    return owned(db, WebhookEndpoint, scope, endpoint_id, param="endpointId", lock=lock)


def list_endpoints(db: Session, scope: Scope) -> list[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.merchant_id == scope.merchant_id,
            WebhookEndpoint.livemode == scope.livemode,
        )
        .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    )
    return list(db.exec(query).all())


def update_endpoint(
    db: Session,
    scope: Scope,
    endpoint_id: str,
    *,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    description: str | None = None,
    disabled: bool | None = None,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> WebhookEndpoint:
    endpoint = get_endpoint(db, scope, endpoint_id, lock=True)
    now = now or utcnow()
    changes: dict[str, Any] = {}
    if url is not None:
        check_url(url, livemode=endpoint.livemode)
        endpoint.url = changes["url"] = url
    if enabled_events is not None:
        endpoint.enabled_events = changes["enabledEvents"] = _validate_events(enabled_events)
    if description is not None:
        endpoint.description = _validate_description(description)
    if disabled is True and endpoint.status == EndpointStatus.ENABLED:
        _disable(db, endpoint, "Disabled by the merchant", now)
        changes["status"] = EndpointStatus.DISABLED
    elif disabled is False and endpoint.status == EndpointStatus.DISABLED:
        endpoint.status, endpoint.disabled_reason = EndpointStatus.ENABLED, None
        # A fresh start: the failure clock and count restart.
        endpoint.failing_since, endpoint.consecutive_failures = None, 0
        changes["status"] = EndpointStatus.ENABLED
    endpoint.updated_at = now
    db.add(endpoint)
    _audit(db, endpoint, "webhook_endpoint.updated", actor, **changes)
    return endpoint


def delete_endpoint(db: Session, scope: Scope, endpoint_id: str, *, actor: Actor = SYSTEM) -> None:
    """Deletes the endpoint with its delivery log; its events stay in the outbox."""
    endpoint = get_endpoint(db, scope, endpoint_id, lock=True)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.exec(
        delete(WebhookDeliveryAttempt).where(
            col(WebhookDeliveryAttempt.delivery_id).in_(deliveries)
        )
    )
    db.exec(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id))
    _audit(db, endpoint, "webhook_endpoint.deleted", actor, url=endpoint.url)
    db.delete(endpoint)


def roll_secret(
    db: Session,
    scope: Scope,
    endpoint_id: str,
    *,
    overlap_hours: int = 24,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> EndpointWithSecret:
    """A new signing secret; the current one keeps signing too for overlap_hours (0: not)."""
    if (
        isinstance(overlap_hours, bool)
        or not isinstance(overlap_hours, int)
        or not 0 <= overlap_hours <= MAX_OVERLAP_HOURS
    ):
        raise ValidationFailed(
            f"expiresInHours must be an integer from 0 to {MAX_OVERLAP_HOURS}",
            param="expiresInHours",
        )
    endpoint = get_endpoint(db, scope, endpoint_id, lock=True)
    now = now or utcnow()
    secret, encrypted = _new_secret()
    if overlap_hours:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + timedelta(hours=overlap_hours)
    else:
        endpoint.previous_secret_encrypted = endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = encrypted
    endpoint.updated_at = now
    db.add(endpoint)
    _audit(db, endpoint, "webhook_endpoint.secret_rolled", actor, overlapHours=overlap_hours)
    return EndpointWithSecret(endpoint, secret)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [crypto.decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires and expires > now:
        found.append(crypto.decrypt(endpoint.previous_secret_encrypted))
    return found


def _disable(db: Session, endpoint: WebhookEndpoint, why: str, now: datetime) -> None:
    """Disable the endpoint and fail its pending deliveries (redeliver them once it is back)."""
    endpoint.status, endpoint.disabled_reason, endpoint.updated_at = (
        EndpointStatus.DISABLED,
        why[:300],
        now,
    )
    db.add(endpoint)
    db.exec(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        )
        .values(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            locked_until=None,
            last_error="endpoint disabled",
            last_error_code=FailureKind.ENDPOINT_DISABLED,
        )
    )


# ---------------------------------------------------------------------------------------------
# Fan-out from the outbox


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
                delivery = _new_delivery(endpoint, event, now)
                db.add(delivery)
                created.append(delivery.id)
        event.dispatched_at = now
        db.add(event)
    return Dispatched(len(batch), created)


def _new_delivery(endpoint: WebhookEndpoint, event: DomainEvent, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        id=new_id("whd"),
        merchant_id=endpoint.merchant_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )


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
            or_(
                col(WebhookDelivery.locked_until).is_(None),
                col(WebhookDelivery.locked_until) <= now,
            ),
        )
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
    )
    if endpoint_id is not None:
        query = query.where(col(WebhookDelivery.endpoint_id) == endpoint_id)
    return list(db.exec(query).all())


# ---------------------------------------------------------------------------------------------
# Delivery


def next_attempt_at(created_at: datetime, failures: int, now: datetime) -> datetime | None:
    """When to try again after `failures` failed attempts; None once the window is over."""
    deadline = created_at + RETRY_WINDOW
    if now >= deadline:
        return None
    nominal = BACKOFF[min(failures, len(BACKOFF)) - 1]
    return min(now + nominal * (1 - JITTER * _random()), deadline)


def planned_attempts(created_at: datetime, made: int, next_at: datetime) -> int:
    """How many attempts a delivery gets in all if the next one, at next_at, and each later one
    fail on the nominal schedule (jitter shortens waits, so it can fit in a few more)."""
    deadline = created_at + RETRY_WINDOW
    attempts, at = made + 1, next_at
    while at < deadline:
        at = min(at + BACKOFF[min(attempts, len(BACKOFF)) - 1], deadline)
        attempts += 1
    return attempts


def _lease() -> timedelta:
    # Well past the longest attempt (connect, write and read timeouts in turn) plus recording.
    return timedelta(seconds=max(60.0, 4 * get_settings().webhook_timeout_seconds))


@dataclass(frozen=True)
class _Job:
    delivery_id: str
    endpoint_id: str
    lease: datetime
    endpoint: WebhookEndpoint  # as read in the claim's transaction (detached)
    event: DomainEvent


@dataclass(frozen=True)
class _Response:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    kind: FailureKind | None = None  # why it failed; None for a 2xx answer

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


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
    job = _claim(delivery_id, now)
    if job is None:
        return None
    try:
        response = _attempt(job, now)
    except Exception as exc:  # the boundary of one attempt
        log.exception("webhook delivery %s: the attempt failed unexpectedly", delivery_id)
        failure = classify(exc, get_settings().webhook_timeout_seconds)
        response = _Response(None, 0, None, _clean(failure.detail), failure.kind)
    result, queued_emails = _record(job, response, now)
    for email_id in queued_emails:  # after the commit: no lock held while SendGrid answers
        email.send_recorded(email_id)
    return result


def _claim(delivery_id: str, now: datetime) -> _Job | None:
    lease = now + _lease()
    with session_scope() as db:
        claimed = db.exec(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
                col(WebhookDelivery.next_attempt_at) <= now,
                or_(
                    col(WebhookDelivery.locked_until).is_(None),
                    col(WebhookDelivery.locked_until) <= now,
                ),
            )
            .values(locked_until=lease, attempts=WebhookDelivery.attempts + 1)
        )
        if claimed.rowcount != 1:
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
        return _Job(delivery.id, endpoint.id, lease, endpoint, event)


def _attempt(job: _Job, now: datetime) -> _Response:
    try:
        secrets = signing_secrets(job.endpoint, now)
    except ValueError:  # ENCRYPTION_KEY changed: a failed attempt, not a crash on every sweep
        return _Response(
            None,
            0,
            None,
            "cannot decrypt the signing secret (ENCRYPTION_KEY?)",
            FailureKind.SECRET_UNREADABLE,
        )
    try:  # again at each attempt: DNS may have changed, and the row may hold anything
        address = check_url(job.endpoint.url, livemode=job.endpoint.livemode)
    except UrlRefused as exc:
        return _Response(None, 0, None, _clean(f"refused: {exc.message}"), exc.kind)
    body = event_body(job.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        "Accept-Encoding": "identity",  # the excerpt is read raw: no decompression bombs
        SIGNATURE_HEADER: sign(body, secrets, int(now.timestamp())),
        "PayPortal-Delivery-Id": job.delivery_id,
    }
    return _post(job.endpoint.url, address, body, headers, get_settings().webhook_timeout_seconds)


def _post(
    url: str, address: str, body: bytes, headers: dict[str, str], timeout: float
) -> _Response:
    """POST to the checked address with the URL's Host and TLS name; redirects not followed."""
    target = httpx.URL(url)
    headers = {**headers, "Host": target.netloc.decode("ascii")}
    extensions: dict[str, Any] = {}
    if target.scheme == "https" and not is_ip(target.host):
        extensions["sni_hostname"] = target.host  # also the name the certificate must match
    started = time.monotonic()
    status: int | None = None
    excerpt: str | None = None
    error: str | None = None
    kind: FailureKind | None = None
    try:
        # trust_env=False: an HTTP(S)_PROXY from the environment would bypass the address check.
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                target.copy_with(host=address),
                content=body,
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            status = response.status_code
            if 300 <= status < 400:
                error, kind = "redirects are not followed", FailureKind.REDIRECT
            elif not 200 <= status < 300:
                kind = FailureKind.HTTP_STATUS
            excerpt = _excerpt(response, deadline=started + timeout)
    except httpx.HTTPError as exc:  # timeouts, TLS, refused or broken connections
        failure = classify(exc, timeout)
        error = failure.detail
        kind = kind or failure.kind  # an answer's status says more than its broken body
    latency = round((time.monotonic() - started) * 1000)
    return _Response(status, latency, excerpt, _clean(error), kind)


def _excerpt(response: httpx.Response, deadline: float) -> str:
    """At most the first EXCERPT_BYTES of the body, read until the deadline; the rest never."""
    data = bytearray()
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= EXCERPT_BYTES or time.monotonic() > deadline:
            break
    return _clean(bytes(data[:EXCERPT_BYTES]).decode("utf-8", errors="replace")) or ""


def _clean(text: str | None) -> str | None:
    """Text any database stores: no NUL (PostgreSQL refuses it, and receivers do send it), no
    lone surrogate (no encoding can write one), at most EXCERPT_BYTES characters."""
    if text is None:
        return None
    valid = text.encode("utf-8", errors="replace").decode("utf-8")
    return valid.replace("\x00", "")[:EXCERPT_BYTES]


def _record(job: _Job, response: _Response, now: datetime) -> tuple[AttemptResult, list[str]]:
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
        delivery = db.exec(
            select(WebhookDelivery).where(WebhookDelivery.id == job.delivery_id).with_for_update()
        ).first()
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
        if delivery.status == DeliveryStatus.PENDING and delivery.locked_until == job.lease:
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
    response: _Response,
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
    delivery.next_attempt_at = next_attempt_at(delivery.created_at, delivery.attempts, now)
    if delivery.next_attempt_at is None:
        delivery.status = DeliveryStatus.FAILED
        emails += _notify_failing(db, endpoint, now)
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if endpoint.status == EndpointStatus.ENABLED and now - endpoint.failing_since >= DISABLE_AFTER:
        db.flush()  # this delivery's own state first; _disable then fails what is still pending
        _disable(db, endpoint, f"Deliveries failed continuously for {DISABLE_AFTER.days} days", now)
        db.refresh(delivery)
        emails += _notify_disabled(db, endpoint, now)
    return emails


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


# ---------------------------------------------------------------------------------------------
# E-mails to the merchant's owner


def _owner_email(db: Session, merchant_id: str) -> str:
    owner = db.exec(
        select(User.email)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.merchant_id == merchant_id, Membership.role == Role.OWNER)
        .order_by(col(Membership.created_at))
        .limit(1)
    ).first()
    if owner:
        return owner
    merchant = db.get(Merchant, merchant_id)
    return merchant.support_email if merchant else get_settings().sendgrid_from_email


def _notify_failing(db: Session, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    template = "webhook_delivery_failed"
    # The endpoint's id is in the subject: that is how "one per endpoint per day" is found.
    recent = db.exec(
        select(OutboundEmail.id)
        .where(
            OutboundEmail.merchant_id == endpoint.merchant_id,
            OutboundEmail.template == template,
            col(OutboundEmail.created_at) > now - FAILURE_EMAIL_EVERY,
            col(OutboundEmail.subject).contains(endpoint.id, autoescape=True),
        )
        .limit(1)
    ).first()
    if recent:
        return []
    row = email.record_email(
        db,
        to=_owner_email(db, endpoint.merchant_id),
        subject=f"Webhook deliveries to endpoint {endpoint.id} are failing",
        text=(
            f"We could not deliver events to {endpoint.url} for {RETRY_WINDOW.days} days and "
            "have stopped retrying them. Check the endpoint's delivery log in the portal, fix "
            "the endpoint, then redeliver the failed events."
        ),
        template=template,
        merchant_id=endpoint.merchant_id,
        now=now,
    )
    return [row.id]


def _notify_disabled(db: Session, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    row = email.record_email(
        db,
        to=_owner_email(db, endpoint.merchant_id),
        subject=f"Webhook endpoint {endpoint.id} has been disabled",
        text=(
            f"Every delivery to {endpoint.url} has failed for {DISABLE_AFTER.days} days, so the "
            "endpoint is now disabled and receives no events. Fix it, enable it again in the "
            "portal, then redeliver the failed events."
        ),
        template="webhook_endpoint_disabled",
        merchant_id=endpoint.merchant_id,
        now=now,
    )
    return [row.id]


# ---------------------------------------------------------------------------------------------
# Merchant actions: redelivery, test events, the delivery log


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


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != EndpointStatus.ENABLED:
        raise Conflict(
            "This endpoint is disabled: enable it first", code="endpoint_disabled", param=None
        )


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
    _require_enabled(endpoint)
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
    _require_enabled(endpoint)
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
    _require_enabled(endpoint)
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
    delivery = _new_delivery(endpoint, event, now)
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


# ---------------------------------------------------------------------------------------------
# Public shapes (REST API and portal)


def endpoint_to_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "livemode": endpoint.livemode,
        "url": endpoint.url,
        "description": endpoint.description,
        "enabledEvents": list(endpoint.enabled_events),
        "status": endpoint.status,
        "disabledReason": endpoint.disabled_reason,
        "failingSince": timestamp(endpoint.failing_since),
        "consecutiveFailures": endpoint.consecutive_failures,
        "lastSuccessAt": timestamp(endpoint.last_success_at),
        "previousSecretExpiresAt": timestamp(endpoint.previous_secret_expires_at),
        "createdAt": timestamp(endpoint.created_at),
        "updatedAt": timestamp(endpoint.updated_at),
    }


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
