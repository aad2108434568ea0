"""What the dashboards' live feed needs from the database: payments that changed lately.

The outbox (DomainEvent) is the one place every payment change is written, whichever process
made it (API, checkout, webhook worker). One watcher per web process reads it for the
merchants whose dashboards are open there (portal/state/live_feed.py), so the database sees
one small indexed query per process and interval, however many browsers watch.

Event times are taken before their transaction commits, so a slow transaction can commit an
event that looks older than one already seen: the watcher reads a window (LOOKBACK) back and
skips the event ids it has already handed out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.core.db import session_scope
from backend.models import DomainEvent, Payment

LOOKBACK = timedelta(seconds=30)


@dataclass(frozen=True)
class PaymentChange:
    event_id: str
    event_at: datetime
    payment: Payment


def payment_changes(
    db: Session, scopes: Iterable[tuple[str, bool]], *, since: datetime, limit: int = 500
) -> list[PaymentChange]:
    """Payment events of these (merchant, mode) pairs created at or after `since`, oldest
    first, each with the payment as it is now. Served by ix_events_merchant_created."""
    changes: list[PaymentChange] = []
    for merchant_id, livemode in set(scopes):
        rows = db.exec(
            select(DomainEvent.id, DomainEvent.created_at, Payment)
            .join(Payment, col(Payment.id) == col(DomainEvent.object_id))
            .where(
                DomainEvent.merchant_id == merchant_id,
                DomainEvent.livemode == livemode,
                DomainEvent.created_at >= since,
                DomainEvent.object_type == "payment",
            )
            .order_by(col(DomainEvent.created_at))
            .limit(limit)
        )
        changes.extend(PaymentChange(eid, at, payment) for eid, at, payment in rows)
    return sorted(changes, key=lambda c: c.event_at)


def read_payment_changes(
    scopes: Iterable[tuple[str, bool]], *, since: datetime, engine: Engine | None = None
) -> list[PaymentChange]:
    """payment_changes() in a read-only unit of work of its own (the watcher's poll, a
    dashboard catching up after its connection came back)."""
    with session_scope(engine, readonly=True) as db:
        return payment_changes(db, scopes, since=since)
