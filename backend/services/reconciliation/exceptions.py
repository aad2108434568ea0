"""Reading, resolving and exporting a merchant's reconciliation exceptions.

Every read and change is scoped to one merchant and mode: another merchant's exception is
"not found" (404), never "forbidden", so ids do not leak. Resolving needs a note (what was done
about it, for whoever reads it next) and is audited; a resolved exception stays, listed under
resolved, and a later run never opens it again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlmodel import Session, col, select

from backend.core.currency import to_major
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.models import ReconciliationException, utcnow
from backend.models.enums import ReconciliationStatus
from backend.services import audit, labels
from backend.services.context import Actor, Scope
from backend.services.reporting import periods
from backend.services.reporting.exports import safe_cell

RS = ReconciliationStatus
NOTE_MAX = 1000
LIST_LIMIT = 200


def list_exceptions(
    db: Session, scope: Scope, status: ReconciliationStatus, *, limit: int = LIST_LIMIT
) -> list[ReconciliationException]:
    """Newest first: open ones by when they were found, resolved ones by when resolved."""
    order = (
        ReconciliationException.created_at
        if status == RS.OPEN
        else ReconciliationException.resolved_at
    )
    return list(
        db.exec(
            select(ReconciliationException)
            .where(
                ReconciliationException.merchant_id == scope.merchant_id,
                ReconciliationException.livemode == scope.livemode,
                ReconciliationException.status == status,
            )
            .order_by(col(order).desc(), col(ReconciliationException.id).desc())
            .limit(limit)
        )
    )


def get_exception(
    db: Session, scope: Scope, exception_id: str, *, lock: bool = False
) -> ReconciliationException:
    query = select(ReconciliationException).where(
        ReconciliationException.id == exception_id,
        ReconciliationException.merchant_id == scope.merchant_id,
        ReconciliationException.livemode == scope.livemode,
    )
    found = db.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise NotFound(f"No such reconciliation exception: {exception_id!r}", param="id")
    return found


def resolve(
    db: Session, scope: Scope, exception_id: str, note: str, actor: Actor
) -> ReconciliationException:
    """Close an open exception with what was done about it. (Who may is the caller's check.)"""
    text = " ".join(note.split())
    if not text:
        raise ValidationFailed("Say what was done about it: a note is required", param="note")
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"Keep the note under {NOTE_MAX} characters", param="note")
    row = get_exception(db, scope, exception_id, lock=True)
    if row.status != RS.OPEN:
        raise Conflict("This exception is already resolved", code="exception_resolved")
    row.status = RS.RESOLVED
    row.resolution_note = text
    row.resolved_by = actor.id
    row.resolved_at = utcnow()
    db.add(row)
    audit.record_by(
        db,
        actor,
        "reconciliation_exception.resolved",
        row,
        "reconciliation_exception",
        {"kind": row.kind, "note": text},
    )
    return row


# -- CSV ------------------------------------------------------------------------------------

COLUMNS = (
    "id",
    "found_at",
    "status",
    "what",
    "object_type",
    "object_id",
    "our_record",
    "their_record",
    "currency",
    "ours",
    "theirs",
    "resolved_at",
    "resolved_by",
    "resolution_note",
)


def exceptions_csv(db: Session, scope: Scope, *, tz: str) -> Iterator[str]:
    """Every exception of the merchant in this mode, open then resolved, as CSV text: the
    exports' conventions (BOM, amounts in major units, local ISO times, guarded text)."""
    zone = periods.zone(tz)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    rows = [*list_exceptions(db, scope, RS.OPEN, limit=100_000)]
    rows += list_exceptions(db, scope, RS.RESOLVED, limit=100_000)
    for r in rows:

        def money(amount: int | None, currency: str = r.currency) -> str:
            return "" if amount is None else str(to_major(amount, currency))

        writer.writerow(
            [
                r.id,
                r.created_at.astimezone(zone).isoformat(timespec="seconds"),
                labels.status(r.status),
                labels.reconciliation_kind(r.kind),
                r.object_type,
                r.object_id,
                r.our_id,
                r.their_id,
                r.currency,
                money(r.expected),
                money(r.actual),
                r.resolved_at.astimezone(zone).isoformat(timespec="seconds")
                if r.resolved_at
                else "",
                r.resolved_by or "",
                safe_cell(r.resolution_note or ""),
            ]
        )
    yield "\ufeff" + buffer.getvalue()
