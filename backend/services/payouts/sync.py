"""Applying the rail's transfer events to our payouts, from a stored cursor.

The rail's feed (Plaid's /transfer/event/sync) is read after the last event applied; each page
is applied and the cursor moved in one transaction, so a crash re-reads the page and every
move is applied at most once (the payout's state decides what is still to do). Events for
transfers that are not ours (sweeps, other products) move the cursor and nothing else.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from backend.core.db import session_scope
from backend.integrations.bank_payouts import PayoutRail, TransferEvent, payout_rail
from backend.models.enums import PayoutStatus
from backend.models.ledger import Payout, PayoutRailCursor
from backend.models.types import utcnow
from backend.services.context import SYSTEM
from backend.services.payments import booking
from backend.services.payouts.creating import return_message

PO = PayoutStatus
PAGE = 100


def sync_rail(rail: PayoutRail | None = None, *, page: int = PAGE) -> int:
    """Apply every new event of the rail; how many events were applied. The rail is asked
    outside any transaction; a page is applied only if the cursor has not moved meanwhile
    (another worker's sync), else it is read again from the new cursor."""
    rail = rail or payout_rail()
    applied = 0
    while True:
        with session_scope(readonly=True) as db:
            stored = db.get(PayoutRailCursor, rail.name)
            after = stored.last_event_id if stored is not None else 0
        events = rail.sync(after, page)
        if not events:
            return applied
        with session_scope() as db:
            cursor = _locked_cursor(db, rail.name)
            if cursor.last_event_id != after:
                continue
            for event in events:
                apply_event(db, rail.name, event)
            cursor.last_event_id = events[-1].event_id
            cursor.updated_at = utcnow()
            db.add(cursor)
        applied += len(events)
        if len(events) < page:
            return applied


def apply_event(db: Session, rail_name: str, event: TransferEvent) -> None:
    """One event, applied to our payout if it is one (a repeat changes nothing)."""
    payout = db.exec(
        select(Payout)
        .where(Payout.rail == rail_name, Payout.rail_transfer_id == event.transfer_id)
        .with_for_update()
    ).first()
    if payout is None:
        return
    kind, status, at = event.event_type, payout.status, event.timestamp
    if kind in ("posted", "settled", "returned") and status == PO.PENDING:
        booking.payout_in_transit(db, payout, SYSTEM)
    if kind == "settled" and payout.status == PO.IN_TRANSIT:
        booking.payout_paid(db, payout, SYSTEM, at)
    elif kind == "failed" and status in (PO.PENDING, PO.IN_TRANSIT):
        booking.payout_failed(
            db,
            payout,
            (event.failure_code or "failed")[:32],
            (event.failure_message or "The bank could not take the payout.")[:300],
            SYSTEM,
            at,
        )
    elif kind == "returned" and payout.status in (PO.IN_TRANSIT, PO.PAID):
        code = (event.failure_code or "returned")[:32]
        booking.payout_failed(
            db, payout, code, return_message(code, event.failure_message)[:300], SYSTEM, at
        )
    elif kind == "cancelled" and status == PO.PENDING:
        booking.cancel_payout(db, payout, SYSTEM)
    elif kind == "cancelled" and status == PO.IN_TRANSIT:
        booking.payout_failed(
            db,
            payout,
            "cancelled",
            "The payout was cancelled before it reached the bank.",
            SYSTEM,
            at,
        )


def _locked_cursor(db: Session, rail_name: str) -> PayoutRailCursor:
    """The rail's cursor row, created at 0 if needed, locked: two syncs run one at a time."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.exec(
        insert(PayoutRailCursor)
        .values(rail=rail_name, last_event_id=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["rail"])
    )
    return db.exec(
        select(PayoutRailCursor)
        .where(PayoutRailCursor.rail == rail_name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
