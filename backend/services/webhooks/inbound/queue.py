"""Processing stored inbound events: claim a lease, apply, finish or retry; the sweep that
re-enqueues due events; replays and health for operators.

Processing one event:
  1. claim: a conditional UPDATE takes a lease (locked_until) on a pending event whose lease is
     free and counts the attempt. Exactly one caller wins, so parallel workers never run one
     event at the same time; `locked_until` is also the fencing token checked when finishing.
  2. apply: one transaction locks the event row, checks the lease is still ours, applies the
     event through the payment services (which write the audit rows and outbox events) and marks
     the event processed. A worker killed before its commit changed nothing: its lease expires
     and the sweep hands the event to another worker.
  3. on an error the transaction rolls back and the event is retried with exponential backoff;
     after MAX_ATTEMPTS it is dead-lettered with its error until an operator replays it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Update, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ServiceError
from backend.models import (
    InboundWebhookEvent,
    utcnow,
)
from backend.models.enums import (
    InboundEventStatus,
)
from backend.services.webhooks.inbound import paypal_handlers, stripe_handlers
from backend.services.webhooks.inbound.handling import Defer
from backend.services.webhooks.inbound.receive import PROVIDER, REDISPATCH
from backend.services.webhooks.lease import (
    UNTIL,
    claim_statement,
    holds_lease,
    locked_row,
    try_claim,
)

log = logging.getLogger(__name__)

# Retries: 15 s, 30 s, 1 min, 2, 4, 8, 16, 32 min, 1 h; the 10th failure dead-letters the event,
# about 2 h 8 min after the first. Long enough to ride out a database failover or a deploy,
# short enough that a real bug reaches an operator the same morning.
MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(hours=1)
# How long a worker holds an event it claimed. Processing takes milliseconds; the lease only
# decides how soon an event whose worker died is picked up again.
LEASE = timedelta(minutes=2)
SWEEP_BATCH = 500
# /api/webhooks/health reports "degraded" past any of these.
DEGRADED_BACKLOG = 1_000
DEGRADED_OLDEST_SECONDS = 300
DEGRADED_FAILURES_LAST_HOUR = 10

S = InboundEventStatus


# ---------------------------------------------------------------------------------------------
# Processing: claim, apply, finish or retry


def retry_delay(attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt: 15 s doubling, at most an hour."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def claim(
    event_pk: str, *, now: datetime | None = None, engine: Engine | None = None
) -> datetime | None:
    """Take the lease on a pending event whose lease is free: its expiry time, or None if
    another worker holds it, it is already done, or it has used all its attempts."""
    now = now or utcnow()
    until = now + LEASE
    with session_scope(engine) as db:
        taken = try_claim(db, _claim_statement(), event_pk, now=now, until=until)
        return until if taken else None


@cache
def _claim_statement() -> Update:
    t = InboundWebhookEvent
    # A lease ending exactly at `now` still holds here (outbound deliveries count it free).
    return claim_statement(
        t,
        col(t.attempts) < MAX_ATTEMPTS,
        pending=S.PENDING,
        expired_at_now=False,
        # next_attempt_at follows the lease: the sweep looks at the event again if it expires.
        next_attempt_at=UNTIL,
    )


def process(
    event_pk: str, *, now: datetime | None = None, engine: Engine | None = None
) -> str | None:
    """Claim and process one event; its new status, or None when it was not ours to process."""
    now = now or utcnow()
    lease = claim(event_pk, now=now, engine=engine)
    if lease is None:
        return None
    try:
        with session_scope(engine) as db:
            event = _leased(db, event_pk, lease)
            if event is None:
                return None
            event.status, note = _apply(db, event)
            event.error_message = note if event.status == S.IGNORED else None
            event.processed_at = now
            event.locked_until = event.next_attempt_at = None
            db.add(event)
        return event.status
    except Exception as exc:
        if isinstance(exc, Defer):  # out of order, as Stripe warns: expected, no traceback
            log.info("webhook event %s deferred: %s", event_pk, exc)
        else:
            log.warning("webhook event %s failed: %s", event_pk, _describe(exc), exc_info=exc)
        try:
            return _record_failure(event_pk, lease, exc, now, engine)
        except Exception:  # the database itself is failing: the lease expires, then a retry
            log.exception("could not record the failure of webhook event %s", event_pk)
            return None


def _apply(db: Session, event: InboundWebhookEvent) -> tuple[S, str | None]:
    """Each provider's handlers apply its own events."""
    if paypal_handlers.is_paypal(event.provider):
        return paypal_handlers.apply(db, event)
    return stripe_handlers.apply(db, event)


def _leased(db: Session, event_pk: str, lease: datetime) -> InboundWebhookEvent | None:
    """The event, row-locked, if our lease on it still stands (the fencing check)."""
    event: InboundWebhookEvent | None = locked_row(db, InboundWebhookEvent, event_pk)
    if event is None or not holds_lease(event, lease, pending=S.PENDING):
        log.warning("lost the lease on webhook event %s; leaving it to its new holder", event_pk)
        return None
    return event


def _record_failure(
    event_pk: str, lease: datetime, error: Exception, now: datetime, engine: Engine | None
) -> str | None:
    with session_scope(engine) as db:
        event = _leased(db, event_pk, lease)
        if event is None:
            return None
        dead = event.attempts >= MAX_ATTEMPTS
        event.status = S.DEAD if dead else S.FAILED
        event.next_attempt_at = None if dead else now + retry_delay(event.attempts)
        event.processed_at = now if dead else None
        event.locked_until = None
        event.error_message = _describe(error)
        db.add(event)
        if dead:
            log.error("webhook event %s dead-lettered: %s", event.event_id, event.error_message)
        return event.status


def _describe(error: Exception) -> str:
    if isinstance(error, ServiceError):
        return f"{error.code}: {error.message}"[:2000]
    return f"{type(error).__name__}: {error}"[:2000]


def dispatch_due(
    *, now: datetime | None = None, limit: int = SWEEP_BATCH, engine: Engine | None = None
) -> list[str]:
    """The sweep: events to enqueue now. Failed events whose retry time has come and pending
    ones left untouched past their time (a lost task, a worker that died holding the lease)
    become pending again, due a minute later, so a slow queue does not fill with copies. An
    event whose last allowed attempt died with its worker is dead-lettered."""
    now = now or utcnow()
    t = InboundWebhookEvent
    overdue = (col(t.next_attempt_at) <= now, col(t.status).in_([S.PENDING, S.FAILED]))
    with session_scope(engine) as db:
        db.exec(
            update(t)
            .where(*overdue, col(t.attempts) >= MAX_ATTEMPTS)
            .values(
                status=S.DEAD,
                error_message="The worker stopped during the last attempt (its lease expired)",
                locked_until=None,
                next_attempt_at=None,
                processed_at=now,
            )
        )
        due = select(t.id).where(*overdue).order_by(col(t.next_attempt_at)).limit(limit)
        ids = db.exec(
            update(t)
            .where(col(t.id).in_(due.scalar_subquery()), *overdue)
            .values(status=S.PENDING, next_attempt_at=now + REDISPATCH)
            .returning(t.id)
        ).scalars()
        return list(ids)


# ---------------------------------------------------------------------------------------------
# Operators: replay, health


def replay(reference: str, *, engine: Engine | None = None) -> InboundWebhookEvent:
    """Queue one event again with a fresh set of attempts, whatever its status: handlers are
    idempotent, so replaying a processed event changes nothing already applied. `reference`
    is our row id (whe_...), Stripe's event id (evt_...) or PayPal's (WH-...)."""
    now = utcnow()
    with session_scope(engine) as db:
        event = _find(db, reference, lock=True)
        if event.status == S.PENDING and event.locked_until and event.locked_until > now:
            raise Conflict(
                f"Event {event.event_id} is being processed right now; try again in a minute",
                code="event_locked",
            )
        log.info("replaying webhook event %s (was %s)", event.event_id, event.status)
        _requeue(event, now)
        db.add(event)
    return event


def get_event(reference: str, *, engine: Engine | None = None) -> InboundWebhookEvent:
    with session_scope(engine, readonly=True) as db:
        return _find(db, reference)


def _find(db: Session, reference: str, *, lock: bool = False) -> InboundWebhookEvent:
    t = InboundWebhookEvent
    query = select(t).where(
        or_(
            col(t.id) == reference,
            (col(t.event_id) == reference)
            & or_(
                col(t.provider) == PROVIDER,
                col(t.provider).startswith(PROVIDER + ":"),
                col(t.provider).startswith(paypal_handlers.PROVIDER + ":"),
            ),
        )
    )
    event = db.exec(query.with_for_update() if lock else query).first()
    if event is None:
        raise NotFound(f"No such webhook event: {reference!r}", param="event")
    return event


def replay_failed(*, since: datetime | None = None, engine: Engine | None = None) -> list[str]:
    """Queue every failed and dead event (received since `since`) again; their row ids."""
    now = utcnow()
    t = InboundWebhookEvent
    conditions = [col(t.status).in_([S.FAILED, S.DEAD])]
    if since is not None:
        conditions.append(col(t.received_at) >= since)
    with session_scope(engine) as db:
        ids = db.exec(update(t).where(*conditions).values(_requeued(now)).returning(t.id)).scalars()
        return list(ids)


def _requeued(now: datetime) -> dict[str, Any]:
    return {
        "status": S.PENDING,
        "attempts": 0,
        "next_attempt_at": now + REDISPATCH,
        "locked_until": None,
        "error_message": None,
        "processed_at": None,
    }


def _requeue(event: InboundWebhookEvent, now: datetime) -> None:
    for name, value in _requeued(now).items():
        setattr(event, name, value)


@dataclass(frozen=True)
class Health:
    status: str
    backlog: int
    oldest_unprocessed_seconds: int | None
    failures_last_hour: int
    reasons: tuple[str, ...]


def health(*, now: datetime | None = None, engine: Engine | None = None) -> Health:
    """Backlog (pending and failed events), the oldest one's age, and the failures of the last
    hour: events waiting for a retry after a failure plus those dead-lettered in the hour."""
    now = now or utcnow()
    t = InboundWebhookEvent
    with session_scope(engine, readonly=True) as db:
        backlog, oldest = db.exec(
            select(func.count(), func.min(t.received_at)).where(
                col(t.status).in_([S.PENDING, S.FAILED])
            )
        ).one()
        failures = db.exec(
            select(func.count()).where(
                (col(t.status) == S.FAILED)
                | ((col(t.status) == S.DEAD) & (col(t.processed_at) >= now - timedelta(hours=1)))
            )
        ).one()
    age = max(int((now - oldest).total_seconds()), 0) if oldest is not None else None
    reasons = []
    if backlog > DEGRADED_BACKLOG:
        reasons.append(f"backlog of {backlog} events (over {DEGRADED_BACKLOG})")
    if age is not None and age > DEGRADED_OLDEST_SECONDS:
        reasons.append(f"oldest unprocessed event is {age} s old (over {DEGRADED_OLDEST_SECONDS})")
    if failures > DEGRADED_FAILURES_LAST_HOUR:
        reasons.append(f"{failures} failures in the last hour (over {DEGRADED_FAILURES_LAST_HOUR})")
    return Health("degraded" if reasons else "healthy", backlog, age, failures, tuple(reasons))
