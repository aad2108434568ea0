"""Rows written together at the end of an operation that only adds rows (creating an order or a
payment), in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.core.db import adopt, insert_rows, pipelined, row_values
from backend.models import AuditLog, DomainEvent, Order, Payment, PaymentAttempt
from backend.services import events
from backend.services.payments import totals


class NewRows:
    """The rows one operation creates, written together at its end: one INSERT per table.

    Creating an order or a payment only adds rows (its audit rows, outbox events and gateway
    attempts with it), so they are computed in memory and written with Core INSERTs rather than
    through the ORM's unit of work (see backend.core.db.new_instance). They are written in the
    caller's transaction like everything else: all of it is committed, or none of it.
    """

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.payments: list[Payment] = []
        self.attempts: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def event(self, **event: Any) -> None:
        """The outbox row `events.emit` would add (its arguments)."""
        self.events.append(events.new_row(**event))

    def write(self, db: Session) -> None:
        if db.new:  # rows the caller added (a customer...) first: ours may refer to them
            db.flush()
        # Parents first: payments reference orders; attempts, audit rows and events come after.
        connection = db.connection()
        with pipelined(connection):
            insert_rows(connection, Order, [row_values(o) for o in self.orders])
            insert_rows(connection, Payment, [row_values(p) for p in self.payments])
            totals.add_new_payments(connection, self.payments)
            insert_rows(connection, PaymentAttempt, self.attempts)
            insert_rows(connection, AuditLog, self.audit)
            insert_rows(connection, DomainEvent, self.events)
        for obj in (*self.orders, *self.payments):
            adopt(db, obj)
