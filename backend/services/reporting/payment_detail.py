"""One payment's page: its timeline in words (audit trail, refunds, disputes, gateway calls)
and the webhook events sent about it with their deliveries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.core.currency import format_money
from backend.models import (
    AuditLog,
    Dispute,
    DomainEvent,
    Payment,
    PaymentAttempt,
    Refund,
    WebhookDelivery,
    WebhookEndpoint,
)
from backend.services import labels
from backend.services.payments import bank_debits
from backend.services.reporting import audit_log


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str = ""
    actor: str = ""


def _related_ids(db: Session, payment: Payment) -> list[str]:
    refund_ids = db.exec(select(Refund.id).where(Refund.payment_id == payment.id)).all()
    dispute_ids = db.exec(select(Dispute.id).where(Dispute.payment_id == payment.id)).all()
    return [payment.id, *refund_ids, *dispute_ids]


def payment_timeline(db: Session, payment: Payment, locale: str = "en_US") -> list[TimelineEntry]:
    """What happened to a payment, oldest first, in words: its creation, then the audit trail
    of it, its refunds and disputes (who did what, amounts as money), and every call made to a
    gateway for it."""
    ids = _related_ids(db, payment)
    rows = list(
        db.exec(
            select(AuditLog)
            .where(AuditLog.merchant_id == payment.merchant_id, col(AuditLog.object_id).in_(ids))
            .order_by(col(AuditLog.created_at))
            .limit(500)
        )
    )
    names = audit_log.actor_names(db, rows)
    entries = [
        TimelineEntry(
            row.created_at,
            labels.action(row.action),
            _audit_detail(row.details or {}, payment.currency, locale),
            audit_log.actor_name(row, names),
        )
        for row in rows
        if row.action != "payment.created"
    ]
    for attempt in db.exec(
        select(PaymentAttempt)
        .where(PaymentAttempt.payment_id == payment.id)
        .order_by(col(PaymentAttempt.created_at))
        .limit(200)
    ):
        outcome = _attempt_outcome(attempt)
        why = f". Why: {attempt.route_reason}" if attempt.route_reason else ""
        entries.append(
            TimelineEntry(
                attempt.created_at,
                labels.action(f"gateway.{attempt.operation}"),
                f"{labels.gateway(attempt.gateway)}: {outcome}, {attempt.latency_ms} ms{why}",
                "PayPortal",
            )
        )
    # The creation comes first whatever else was recorded at the same instant.
    entries.sort(key=lambda e: e.at)
    created = TimelineEntry(
        payment.created_at,
        labels.action("payment.created"),
        format_money(payment.amount, payment.currency, locale),
    )
    return [created, *entries]


def _attempt_outcome(attempt: PaymentAttempt) -> str:
    """ "Succeeded", or "Error: Stripe could not be reached." (the processor's message, else its
    code in words)."""
    outcome = labels.words(attempt.outcome)
    if attempt.message:
        return f"{outcome}: {attempt.message}"
    return f"{outcome} ({labels.words(attempt.code).lower()})" if attempt.code else outcome


@dataclass(frozen=True)
class RouteStep:
    """One processor tried for the payment itself, and why routing chose it, in words."""

    processor: str
    outcome: str
    reason: str


ROUTED_OPERATIONS = ("authorize", "charge")


def routing_decision(db: Session, payment: Payment) -> list[RouteStep]:
    """The processors the payment was offered to, in order, each with why (the route reason
    recorded on its attempt; attempts from before migration 0028 have none)."""
    steps = []
    for attempt in db.exec(
        select(PaymentAttempt)
        .where(
            PaymentAttempt.payment_id == payment.id,
            col(PaymentAttempt.operation).in_(ROUTED_OPERATIONS),
        )
        .order_by(col(PaymentAttempt.created_at), col(PaymentAttempt.id))
        .limit(50)
    ):
        outcome = _attempt_outcome(attempt)
        steps.append(
            RouteStep(
                labels.gateway(attempt.gateway),
                outcome,
                attempt.route_reason or "not recorded (a payment from before cost routing)",
            )
        )
    return steps


def _audit_detail(details: dict[str, Any], currency: str, locale: str) -> str:
    parts = []
    if isinstance(details.get("amount"), int):
        amount_currency = str(details.get("currency") or currency)
        parts.append(format_money(details["amount"], amount_currency, locale))
    if isinstance(details.get("status"), str):
        parts.append(labels.status(details["status"]))
    if details.get("bank_return") and details.get("code"):
        parts.append(bank_debits.return_reason(str(details["code"])))
    elif details.get("code"):
        parts.append(labels.words(str(details["code"])))
    return " · ".join(parts)


@dataclass(frozen=True)
class EventDeliveries:
    event_id: str
    type: str
    created_at: datetime
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def payment_webhooks(db: Session, payment: Payment) -> list[EventDeliveries]:
    """The events emitted about a payment (and its refunds and disputes), newest first, each
    with its deliveries to the merchant's endpoints."""
    ids = _related_ids(db, payment)
    events = list(
        db.exec(
            select(DomainEvent)
            .where(
                DomainEvent.merchant_id == payment.merchant_id,
                col(DomainEvent.object_id).in_(ids),
            )
            .order_by(col(DomainEvent.created_at).desc())
            .limit(100)
        )
    )
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if events:
        rows = db.exec(
            select(WebhookDelivery, WebhookEndpoint.url)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
            .where(col(WebhookDelivery.event_id).in_([e.id for e in events]))
            .order_by(col(WebhookDelivery.created_at))
        )
        for delivery, url in rows:
            by_event[delivery.event_id].append(
                {
                    "id": delivery.id,
                    "url": url,
                    "status": delivery.status,
                    "attempts": delivery.attempts,
                    "last_status_code": delivery.last_status_code,
                    "last_error": delivery.last_error,
                    "delivered_at": delivery.delivered_at,
                    "next_attempt_at": delivery.next_attempt_at,
                }
            )
    return [EventDeliveries(e.id, e.type, e.created_at, by_event.get(e.id, [])) for e in events]
