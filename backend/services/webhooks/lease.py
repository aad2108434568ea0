"""Leases on queued work rows, one helper for both webhook queues (inbound processor events,
outbound deliveries to merchants).

A row waiting for a worker has a status, an attempt count and `locked_until`. A worker owns one
attempt by a conditional UPDATE: the row is this queue's pending status, its lease is free (never
taken, or expired) and whatever else the queue asks holds (due, attempts left); the UPDATE sets
locked_until to the lease's end and counts the attempt, and RETURNING tells whether it took the
row (SQLite and PostgreSQL alike). Only one worker can change that row, so two never run one
attempt at once; a worker that dies leaves a lease that expires, and the queue's sweep hands the
row to another.

Finishing locks the row (SELECT ... FOR UPDATE) and checks that locked_until still holds this
worker's lease, a fencing token: a worker whose lease ran out and was taken over changes nothing.

The claim statement takes bind parameters (:pk, :now, :until, NOW and UNTIL below), so a queue
builds it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, or_, update
from sqlmodel import Session, col, select

from backend.models.types import UTCDateTime

NOW = bindparam("now", type_=UTCDateTime())  # the claim's time
UNTIL = bindparam("until", type_=UTCDateTime())  # the end of the lease it takes


def lease_free(model: Any, now: Any, *, expired_at_now: bool) -> ColumnElement[bool]:
    """The row's lease is free at `now`: never taken, or ended before now (and at now itself
    too when expired_at_now; each queue keeps the comparison it always had)."""
    locked = col(model.locked_until)
    return or_(locked.is_(None), locked <= now if expired_at_now else locked < now)


def claim_statement(
    model: Any,
    *conditions: ColumnElement[bool],
    pending: str,
    expired_at_now: bool,
    **values: Any,
) -> Update:
    """UPDATE model SET locked_until = :until, <values>, attempts = attempts + 1 WHERE id = :pk
    AND status = pending AND the lease is free at :now AND <conditions> RETURNING id.
    Conditions and values may use NOW and UNTIL."""
    return (
        update(model)
        .where(
            col(model.id) == bindparam("pk"),
            col(model.status) == pending,
            lease_free(model, NOW, expired_at_now=expired_at_now),
            *conditions,
        )
        .values({"locked_until": UNTIL, **values, "attempts": col(model.attempts) + 1})
        .returning(model.id)
    )


def try_claim(db: Session, statement: Update, pk: str, *, now: datetime, until: datetime) -> bool:
    """Run a claim_statement for one row: True when this caller took the lease."""
    taken = db.exec(statement, params={"pk": pk, "now": now, "until": until})
    return taken.first() is not None


def locked_row(db: Session, model: Any, pk: str) -> Any:
    """The row, locked FOR UPDATE until the transaction ends; None if it is gone."""
    return db.exec(select(model).where(col(model.id) == pk).with_for_update()).first()


def holds_lease(row: Any, lease: datetime, *, pending: str) -> bool:
    """The fencing check: the row is still pending and its lease is still the one taken."""
    return bool(row.status == pending and row.locked_until == lease)
