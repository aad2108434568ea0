"""Inbound Stripe webhooks: verify and store at once, process in the background.

Two endpoints take events: /api/webhooks/stripe for the platform's Stripe account (verified with
STRIPE_WEBHOOK_SECRET) and /api/webhooks/stripe/<gateway config id> for a merchant's own Stripe
account (verified with that processor's signing secret). An event's source is stored with it
(`provider`: "stripe" or "stripe:<config id>"), and processing lets it touch only payments of
that source: a merchant holds its own signing secret, so its events must never reach another
merchant's payments, nor shadow the platform's events by reusing their ids.

The endpoint verifies the signature, stores the raw event (unique per source and event id) and
enqueues it: Stripe has its 200 within milliseconds, and nothing is lost if a worker dies, because
the row, not the queue, records what remains to be done.

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

Events arrive late, twice and out of order. Handlers are idempotent (refunds and disputes are
keyed by their Stripe ids) and never move an object backwards: a payment's, refund's or
dispute's gateway_synced_at holds the `created` time of the newest event applied to it, an older
event leaves it as it is, and the state machine refuses any other backward move. An event that
needs an earlier one (a refund seen before the payment's success) waits by being retried.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import stripe
from sqlalchemy import Insert, Update, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ServiceError
from backend.core.ids import new_id
from backend.gateways.stripe_gateway import _decline_code, _message
from backend.models import (
    Dispute,
    GatewayConfig,
    InboundWebhookEvent,
    Merchant,
    Order,
    Payment,
    Refund,
    utcnow,
)
from backend.models.enums import (
    ActorType,
    DisputeStatus,
    InboundEventStatus,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from backend.services import audit, events
from backend.services.payments import charges as payments
from backend.services.payments import disputes, routing, state_machine
from backend.services.payments.charges import Actor
from backend.services.representations import refund_to_dict
from backend.services.webhooks.lease import (
    UNTIL,
    claim_statement,
    holds_lease,
    locked_row,
    try_claim,
)

log = logging.getLogger(__name__)

PROVIDER = "stripe"
SIGNATURE_TOLERANCE_SECONDS = 300  # Stripe's own default: older signatures are replays
# Retries: 15 s, 30 s, 1 min, 2, 4, 8, 16, 32 min, 1 h; the 10th failure dead-letters the event,
# about 2 h 8 min after the first. Long enough to ride out a database failover or a deploy,
# short enough that a real bug reaches an operator the same morning.
MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(hours=1)
# How long a worker holds an event it claimed. Processing takes milliseconds; the lease only
# decides how soon an event whose worker died is picked up again.
LEASE = timedelta(minutes=2)
# A queued event nobody took within this time is enqueued again by the sweep (its task was lost).
REDISPATCH = timedelta(seconds=60)
SWEEP_BATCH = 500
# /api/webhooks/health reports "degraded" past any of these.
DEGRADED_BACKLOG = 1_000
DEGRADED_OLDEST_SECONDS = 300
DEGRADED_FAILURES_LAST_HOUR = 10

S = InboundEventStatus
P = PaymentStatus
CAPTURED = frozenset({P.SUCCEEDED, P.PARTIALLY_REFUNDED, P.REFUNDED, P.DISPUTED})


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


def provider_of(source: str | None) -> str:
    return f"{PROVIDER}:{source}" if source else PROVIDER


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
            "provider": provider_of(event.source),
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


# ---------------------------------------------------------------------------------------------
# Processing: claim, apply, finish or retry


class Ignore(Exception):  # control flow, not an error
    """The event has nothing to change here (not our object, stale, backwards): mark ignored."""


class Defer(Exception):
    """An earlier event this one needs has not been applied yet: retry later."""


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
    is our row id (whe_...) or Stripe's event id (evt_...)."""
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
            & or_(col(t.provider) == PROVIDER, col(t.provider).startswith(PROVIDER + ":")),
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


# ---------------------------------------------------------------------------------------------
# Applying events to payments, refunds and disputes


@dataclass(frozen=True)
class _Event:
    db: Session
    row: InboundWebhookEvent
    obj: dict[str, Any]  # data.object: the Stripe object as it was at `created`
    created: datetime
    actor: Actor


def _apply(db: Session, row: InboundWebhookEvent) -> tuple[S, str | None]:
    handler = HANDLERS.get(row.event_type)
    if handler is None:
        return S.IGNORED, f"{row.event_type} events are not used"
    data = json.loads(row.payload)
    event = _Event(
        db,
        row,
        data["data"]["object"],
        datetime.fromtimestamp(data["created"], UTC),
        Actor(ActorType.WEBHOOK, row.event_id),
    )
    try:
        with db.begin_nested():  # an Ignore undoes whatever the handler had started
            note = handler(event)
    except Ignore as reason:
        return S.IGNORED, str(reason)
    log.info("webhook %s %s: %s", row.event_type, row.event_id, note)
    return S.PROCESSED, None


# -- finding our objects


def _payment(ev: _Event, intent_id: str | None, metadata: dict[str, Any] | None = None) -> Payment:
    """Our payment for a PaymentIntent, row-locked: by its id, else by the payment_id our API
    put in its metadata (a creation that timed out never learnt the PaymentIntent's id)."""
    db = ev.db
    payment = None
    if intent_id:
        payment = db.exec(
            select(Payment)
            .where(Payment.gateway == PROVIDER, Payment.gateway_payment_id == intent_id)
            .with_for_update()
        ).first()
    ours = (metadata or {}).get("payment_id")
    if payment is None and isinstance(ours, str):
        payment = db.exec(select(Payment).where(Payment.id == ours).with_for_update()).first()
        if payment is None:
            # Ours by its metadata: its creating transaction may not have committed yet.
            raise Defer(f"payment {ours} of PaymentIntent {intent_id} is not stored yet")
        if payment.gateway != PROVIDER or payment.gateway_payment_id not in (None, intent_id):
            raise Ignore(f"payment {ours} belongs to another gateway object than {intent_id}")
        payment.gateway_payment_id = intent_id
    if payment is None:
        raise Ignore(f"no payment for PaymentIntent {intent_id}: not created by this platform")
    _same_source(ev, payment)
    if payment.livemode != ev.row.livemode:
        raise Ignore(f"a {_mode(ev.row.livemode)} event for {_mode(payment.livemode)} {payment.id}")
    return payment


def _same_source(ev: _Event, payment: Payment) -> None:
    """An event touches only payments its Stripe account took: a merchant's account only the
    payments of its processor, the platform's account only payments not taken with a
    merchant's own key."""
    source = source_of(ev.row.provider)
    if source is not None:
        if payment.gateway_config_id != source:
            raise Ignore(f"payment {payment.id} was not taken through processor {source}")
        return
    if payment.gateway_config_id is not None:
        config = ev.db.get(GatewayConfig, payment.gateway_config_id)
        if config is not None and config.credentials_encrypted:
            raise Ignore(f"payment {payment.id} belongs to the merchant's own Stripe account")


def _mode(livemode: bool) -> str:
    return "live" if livemode else "test"


def _captured_payment(ev: _Event, intent_id: str | None) -> Payment:
    """The payment a refund or dispute belongs to, which must be captured already."""
    payment = _payment(ev, intent_id)
    if payment.status not in CAPTURED:
        raise Defer(
            f"payment {payment.id} is {payment.status}: waiting for the event of its capture"
        )
    return payment


def _stale(synced: datetime | None, ev: _Event) -> bool:
    return synced is not None and ev.created < synced


def _synced(obj: Payment | Refund | Dispute, ev: _Event) -> None:
    if obj.gateway_synced_at is None or ev.created > obj.gateway_synced_at:
        obj.gateway_synced_at = ev.created
    ev.db.add(obj)


def _fresh_payment(ev: _Event, intent_id: str | None, metadata: Any = None) -> Payment:
    payment = _payment(ev, intent_id, metadata)
    if _stale(payment.gateway_synced_at, ev):
        raise Ignore(
            f"stale: payment {payment.id} already reflects Stripe as of "
            f"{payment.gateway_synced_at.isoformat()}"
        )
    return payment


# -- payments


def _capture(ev: _Event, payment: Payment, amount: int) -> str:
    if payment.status in CAPTURED:
        return f"payment {payment.id} already captured"
    if not state_machine.can_move(payment.status, P.SUCCEEDED, state_machine.PAYMENT_TRANSITIONS):
        raise Conflict(
            f"Stripe reports payment {payment.id} succeeded, but it is {payment.status}",
            code="gateway_discrepancy",
        )
    _set_fees(ev.db, payment, amount)
    payment.failure_code = payment.failure_message = None
    payment.authorized_at = payment.authorized_at or ev.created
    payments._mark_captured(
        ev.db, _payable_order(ev.db, payment), payment, amount, ev.actor, ev.created
    )
    return f"payment {payment.id} captured {amount}"


def _authorize(ev: _Event, payment: Payment, amount: int) -> str:
    if payment.status == P.AUTHORIZED or payment.status in CAPTURED:
        return f"payment {payment.id} already authorized"
    if not state_machine.can_move(payment.status, P.AUTHORIZED, state_machine.PAYMENT_TRANSITIONS):
        raise Conflict(
            f"Stripe reports payment {payment.id} authorized, but it is {payment.status}",
            code="gateway_discrepancy",
        )
    _set_fees(ev.db, payment, amount)
    payment.failure_code = payment.failure_message = None
    payment.authorized_at = ev.created
    payments.move_payment(payment, P.AUTHORIZED)
    payments.record_change(ev.db, payment, "payment.authorized", ev.actor)
    return f"payment {payment.id} authorized {amount}"


def _fail(ev: _Event, payment: Payment, code: str, message: str) -> str:
    if payment.status == P.FAILED:
        return f"payment {payment.id} already failed"
    if not state_machine.can_move(payment.status, P.FAILED, state_machine.PAYMENT_TRANSITIONS):
        raise Ignore(f"payment {payment.id} is {payment.status}: a failure cannot undo that")
    payments._fail(ev.db, payment, code, message, ev.actor)
    return f"payment {payment.id} failed: {code}"


def _void(ev: _Event, payment: Payment) -> str:
    if payment.status == P.VOIDED:
        return f"payment {payment.id} already voided"
    if not state_machine.can_move(payment.status, P.VOIDED, state_machine.PAYMENT_TRANSITIONS):
        raise Ignore(f"payment {payment.id} is {payment.status}: a cancellation cannot undo that")
    payments.move_payment(payment, P.VOIDED)
    payment.canceled_at = ev.created
    payment.platform_fee = payment.gateway_fee = payment.net_amount = 0
    payments.record_change(ev.db, payment, "payment.voided", ev.actor)
    return f"payment {payment.id} voided"


def _set_fees(db: Session, payment: Payment, amount: int) -> None:
    merchant = db.get(Merchant, payment.merchant_id)
    assert merchant is not None
    payments._set_fees(db, merchant, payment, amount, routing.fees_for_payment(db, payment))


def _payable_order(db: Session, payment: Payment) -> Order | None:
    """The payment's order if it still awaits payment; else None, so it is not paid twice."""
    if not payment.order_id:
        return None
    order = db.get(Order, payment.order_id, with_for_update=True)
    if order is None or order.status == OrderStatus.OPEN:
        return order
    log.warning(
        "payment %s succeeded late but order %s is already %s: the customer may have paid twice",
        payment.id,
        order.id,
        order.status,
    )
    return None


def _on_intent_created(ev: _Event) -> str:
    payment = _payment(ev, ev.obj.get("id"), ev.obj.get("metadata"))
    return f"PaymentIntent of payment {payment.id} created"


def _on_intent_succeeded(ev: _Event) -> str:
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    note = _capture(ev, payment, intent.get("amount_received") or intent["amount"])
    _synced(payment, ev)
    return note


def _on_intent_failed(ev: _Event) -> str:
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    error = intent.get("last_payment_error") or {}
    code = _decline_code(error.get("code"), error.get("decline_code"))
    note = _fail(ev, payment, code, _message(code))
    _synced(payment, ev)
    return note


def _on_intent_canceled(ev: _Event) -> str:
    intent = ev.obj
    payment = _fresh_payment(ev, intent.get("id"), intent.get("metadata"))
    note = _void(ev, payment)
    _synced(payment, ev)
    return note


def _on_charge_succeeded(ev: _Event) -> str:
    charge = ev.obj
    payment = _fresh_payment(ev, charge.get("payment_intent"), charge.get("metadata"))
    if charge.get("captured"):
        note = _capture(ev, payment, charge.get("amount_captured") or charge["amount"])
    else:  # a manual-capture payment: authorized only
        note = _authorize(ev, payment, charge["amount"])
    _synced(payment, ev)
    return note


def _on_charge_failed(ev: _Event) -> str:
    charge = ev.obj
    payment = _fresh_payment(ev, charge.get("payment_intent"), charge.get("metadata"))
    code = _decline_code(charge.get("failure_code"), (charge.get("outcome") or {}).get("reason"))
    note = _fail(ev, payment, code, _message(code))
    _synced(payment, ev)
    return note


def _on_charge_refunded(ev: _Event) -> str:
    """A refunded charge was captured, whichever events about that are still on their way;
    then each of its refunds is synced by its Stripe id."""
    charge = ev.obj
    payment = _payment(ev, charge.get("payment_intent"), charge.get("metadata"))
    notes = []
    if payment.status not in CAPTURED:
        notes.append(_capture(ev, payment, charge.get("amount_captured") or charge["amount"]))
        _synced(payment, ev)
    listed = (charge.get("refunds") or {}).get("data")
    if listed is None:  # newer API versions leave the list out: refund.* events carry them
        notes.append("the charge lists no refunds; refund events will carry them")
    for snapshot in listed or ():
        notes.append(_sync_refund(ev, payment, snapshot))
    return "; ".join(notes)


# -- refunds

_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}
_BOOKED = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)  # counted in amount_refunded


def _on_refund(ev: _Event) -> str:
    payment = _captured_payment(ev, ev.obj.get("payment_intent"))
    return _sync_refund(ev, payment, ev.obj)


def _sync_refund(ev: _Event, payment: Payment, snapshot: dict[str, Any]) -> str:
    """Create, confirm or reverse our refund for a Stripe refund, at most once each."""
    target = _REFUND_STATUS.get(snapshot.get("status", ""))
    if target is None:
        raise Conflict(
            f"Refund {snapshot.get('id')} has an unknown status {snapshot.get('status')}"
        )
    record = ev.db.exec(
        select(Refund).where(Refund.gateway_refund_id == snapshot["id"]).with_for_update()
    ).first()
    if record is None:
        return _new_refund(ev, payment, snapshot, target)
    if record.payment_id != payment.id:
        raise Conflict(f"Refund {snapshot['id']} is booked on payment {record.payment_id}")
    if _stale(record.gateway_synced_at, ev):
        return f"refund {record.id}: stale snapshot left alone"
    _synced(record, ev)
    if record.status == target:
        return f"refund {record.id} already {target}"
    if record.status == RefundStatus.PENDING and target == RefundStatus.SUCCEEDED:
        state_machine.ensure_refund_move(record.status, target)
        record.status = target
        _refund_changed(ev, payment, record, "refund.succeeded")
        return f"refund {record.id} confirmed"
    if record.status in _BOOKED and target in (RefundStatus.FAILED, RefundStatus.CANCELED):
        _reverse_refund(ev, payment, record, target, snapshot.get("failure_reason"))
        return f"refund {record.id} {target}: booking reversed"
    return f"refund {record.id} is {record.status}; Stripe's {target} cannot move it back"


def _new_refund(ev: _Event, payment: Payment, snapshot: dict[str, Any], target: str) -> str:
    """A refund made outside our API (Stripe's dashboard) or whose API call was lost."""
    amount = snapshot["amount"]
    if str(snapshot.get("currency", "")).upper() != payment.currency:
        raise Conflict(f"Refund {snapshot['id']} is in {snapshot.get('currency')}")
    if target in _BOOKED and amount > payment.amount_captured - payment.amount_refunded:
        raise Conflict(
            f"Refund {snapshot['id']} of {amount} exceeds what remains of payment {payment.id}"
        )
    record = Refund(
        id=new_id("re"),
        merchant_id=payment.merchant_id,
        livemode=payment.livemode,
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        reason=snapshot.get("reason"),
        gateway_refund_id=snapshot["id"],
        gateway_synced_at=ev.created,
    )
    ev.db.add(record)
    ev.db.flush()
    if target in _BOOKED:
        payments.apply_refund(
            ev.db, payment, record, ev.actor, pending=target == RefundStatus.PENDING
        )
        return f"refund {record.id} of {amount} booked ({target})"
    record.status = target
    record.failure_reason = snapshot.get("failure_reason") or target
    _refund_changed(ev, payment, record, "refund.failed")
    return f"refund {record.id} recorded as {target}"


def _reverse_refund(
    ev: _Event, payment: Payment, record: Refund, target: str, reason: str | None
) -> None:
    """Undo a booked refund that failed: the money, the fee handed back and the statuses."""
    state_machine.ensure_refund_move(record.status, target)
    payment.amount_refunded -= record.amount
    payment.platform_fee += record.platform_fee_refunded
    payment.net_amount += record.amount - record.platform_fee_refunded
    # apply_refund sums the fees other refunds handed back: a failed one hands back nothing.
    record.platform_fee_refunded = 0
    record.status = target
    record.failure_reason = reason or target
    if payment.status != P.DISPUTED:  # an open or lost dispute keeps the payment disputed
        payments.move_payment(payment, _settled(payment))
    if payment.order_id and (order := ev.db.get(Order, payment.order_id)) is not None:
        refunded = payment.amount_refunded > 0
        order.status = OrderStatus.PARTIALLY_REFUNDED if refunded else OrderStatus.PAID
        order.updated_at = utcnow()
        ev.db.add(order)
    ev.db.add(payment)
    _refund_changed(ev, payment, record, "refund.reversed")


def _settled(payment: Payment) -> PaymentStatus:
    if payment.amount_refunded <= 0:
        return P.SUCCEEDED
    full = payment.amount_refunded >= payment.amount_captured
    return P.REFUNDED if full else P.PARTIALLY_REFUNDED


def _refund_changed(ev: _Event, payment: Payment, record: Refund, action: str) -> None:
    record.updated_at = utcnow()
    ev.db.add(record)
    audit.record(
        ev.db,
        action=action,
        merchant_id=record.merchant_id,
        livemode=record.livemode,
        actor_type=ev.actor.type,
        actor_id=ev.actor.id,
        object_type="refund",
        object_id=record.id,
        details={"payment": payment.id, "status": record.status, "amount": record.amount},
    )
    events.emit(
        ev.db,
        type="refund.updated",
        merchant_id=record.merchant_id,
        livemode=record.livemode,
        object_type="refund",
        object_id=record.id,
        data=refund_to_dict(record),
    )


# -- disputes

_DISPUTE_WON = {"won": True, "warning_closed": True, "lost": False}


def _dispute_row(ev: _Event, gateway_dispute_id: str) -> Dispute | None:
    dispute = ev.db.exec(
        select(Dispute).where(Dispute.gateway_dispute_id == gateway_dispute_id).with_for_update()
    ).first()
    if dispute is not None:
        payment = ev.db.get(Payment, dispute.payment_id)
        if payment is not None:
            _same_source(ev, payment)
    return dispute


def _open_dispute(ev: _Event, snapshot: dict[str, Any]) -> Dispute:
    payment = _captured_payment(ev, snapshot.get("payment_intent"))
    dispute = disputes.open_dispute(
        ev.db,
        payment,
        amount=snapshot["amount"],
        reason=snapshot.get("reason") or "general",
        gateway_dispute_id=snapshot["id"],
        actor=ev.actor,
    )
    due = (snapshot.get("evidence_details") or {}).get("due_by")
    if isinstance(due, int):
        dispute.evidence_due_by = datetime.fromtimestamp(due, UTC)
    return dispute


def _on_dispute_created(ev: _Event) -> str:
    dispute = _dispute_row(ev, ev.obj["id"])
    if dispute is not None:
        _synced(dispute, ev)
        return f"dispute {dispute.id} already recorded"
    dispute = _open_dispute(ev, ev.obj)
    _synced(dispute, ev)
    return f"dispute {dispute.id} opened on payment {dispute.payment_id}"


def _on_dispute_closed(ev: _Event) -> str:
    won = _DISPUTE_WON.get(ev.obj.get("status", ""))
    if won is None:
        raise Conflict(f"Dispute {ev.obj['id']} closed with an unknown status {ev.obj['status']}")
    dispute = _dispute_row(ev, ev.obj["id"]) or _open_dispute(ev, ev.obj)
    _synced(dispute, ev)
    if dispute.status in (DisputeStatus.WON, DisputeStatus.LOST):
        return f"dispute {dispute.id} already {dispute.status}"
    disputes.close_dispute(ev.db, dispute, won=won, actor=ev.actor)
    return f"dispute {dispute.id} {dispute.status}"


HANDLERS: dict[str, Callable[[_Event], str]] = {
    "payment_intent.created": _on_intent_created,
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "payment_intent.canceled": _on_intent_canceled,
    "charge.succeeded": _on_charge_succeeded,
    "charge.failed": _on_charge_failed,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
    "charge.dispute.closed": _on_dispute_closed,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
}
