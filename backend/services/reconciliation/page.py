"""What the portal's Reconciliation page does: read the exceptions in words, run a
reconciliation now, resolve an exception with a note.

Each function takes the member's resolved session, checks the permission matrix first (seeing
needs view_data; running and resolving need reconcile: owners and admins), then opens its own
unit of work. The page's state only calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_datetime
from sqlmodel import col, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.models import User
from backend.models.enums import ActorType, ReconciliationStatus
from backend.models.ledger import PLATFORM
from backend.services import audit, labels
from backend.services.context import Actor, Scope
from backend.services.identity.permissions import Permission, can, require
from backend.services.identity.sessions import SessionContext
from backend.services.reconciliation import exceptions, jobs, runs
from backend.services.reporting import periods

RS = ReconciliationStatus


@dataclass(frozen=True)
class ExceptionView:
    """One exception as the page shows it: words, formatted amounts, both sides' records."""

    id: str
    kind: str  # the code, for the badge's colour
    what: str  # the kind in words
    about: str  # "Payment pay_…", "Payout po_…"
    where: str  # whose records were compared with ours
    expected: str
    actual: str
    ours: str  # our record, one "Label: value" a line
    theirs: str
    found: str
    resolved: str  # "" while open
    resolved_by: str
    note: str


@dataclass(frozen=True)
class ReconciliationPage:
    open: list[ExceptionView]
    resolved: list[ExceptionView]
    can_reconcile: bool
    can_export: bool


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _actor(ctx: SessionContext, ip_address: str | None) -> Actor:
    return Actor(ActorType.USER, ctx.user_id, ip_address or None)


def page(ctx: SessionContext, *, locale: str, tz: str) -> ReconciliationPage:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        open_rows = exceptions.list_exceptions(db, _scope(ctx), RS.OPEN)
        resolved_rows = exceptions.list_exceptions(db, _scope(ctx), RS.RESOLVED)
        ids = {r.resolved_by for r in resolved_rows if r.resolved_by}
        emails = dict(db.exec(select(User.id, User.email).where(col(User.id).in_(list(ids)))).all())
    return ReconciliationPage(
        [_view(r, locale, tz, emails) for r in open_rows],
        [_view(r, locale, tz, emails) for r in resolved_rows],
        can(ctx.role, Permission.RECONCILE),
        can(ctx.role, Permission.EXPORT_DATA),
    )


def run_now(ctx: SessionContext, *, ip_address: str | None) -> runs.RunSummary:
    """Import the merchant's own Stripe payouts, then reconcile; audited."""
    require(ctx.role, Permission.RECONCILE)
    actor = _actor(ctx, ip_address)
    summary = jobs.reconcile(ctx.merchant_id, ctx.livemode, actor=actor)
    with session_scope() as db:
        audit.record(
            db,
            action="reconciliation.ran",
            merchant_id=ctx.merchant_id,
            livemode=ctx.livemode,
            actor_type=actor.type,
            actor_id=actor.id,
            ip_address=actor.ip_address,
            details={
                "found": summary.found,
                "still_open": summary.still_open,
                "resolved": summary.resolved,
                "errors": summary.errors,
            },
        )
    return summary


def resolve(ctx: SessionContext, exception_id: str, note: str, *, ip_address: str | None) -> None:
    require(ctx.role, Permission.RECONCILE)
    with session_scope() as db:
        exceptions.resolve(db, _scope(ctx), exception_id, note, _actor(ctx, ip_address))


def summary_text(summary: runs.RunSummary) -> str:
    """What a run did, in a sentence."""
    parts = [
        f"{summary.found} new exception{'s' if summary.found != 1 else ''}",
        f"{summary.still_open} still open",
        f"{summary.resolved} now in agreement",
    ]
    return "Reconciliation finished: " + ", ".join(parts) + "."


# -- words ----------------------------------------------------------------------------------

RAILS = {"plaid": "Plaid Transfer (ACH)", "sandbox": "Test bank transfers (sandbox)"}
_FIELDS = (  # (key in a record, label), in the order people read them
    ("type", "Type"),
    ("amount", "Amount"),
    ("fee", "Processor fee"),
    ("net", "Net"),
    ("status", "Status"),
    ("object", "For"),
    ("processor_id", "Processor's id"),
    ("source", "For"),
    ("payout", "Paid out in"),
    ("rail", "Paid through"),
    ("transfer", "Transfer"),
    ("failure_message", "Bank's reason"),
    ("arrival_date", "Arrival"),
    ("created", "Created"),
    ("id", "Record"),
)


def _view(row: Any, locale: str, tz: str, emails: dict[str, str]) -> ExceptionView:
    evidence = row.evidence or {}

    def money(amount: int | None) -> str:
        return "—" if amount is None else format_money(amount, row.currency, locale)

    return ExceptionView(
        id=row.id,
        kind=row.kind,
        what=labels.reconciliation_kind(row.kind),
        about=f"{labels.object_type(row.object_type)} {row.object_id}".strip()
        if row.object_type
        else (row.object_id or "—"),
        where=_where(row),
        expected=money(row.expected),
        actual=money(row.actual),
        ours=_lines(evidence.get("ours"), row.currency, locale, tz) or "No record on our side",
        theirs=_lines(evidence.get("theirs"), row.currency, locale, tz) or "No record there",
        found=_when(row.created_at, locale, tz),
        resolved=_when(row.resolved_at, locale, tz) if row.resolved_at else "",
        resolved_by=emails.get(row.resolved_by or "", "PayPortal" if row.resolved_at else ""),
        note=row.resolution_note or "",
    )


def _where(row: Any) -> str:
    """Whose records ours were compared with."""
    if row.account != PLATFORM:
        return "Your Stripe account"
    return "The payout rail (bank transfers)" if row.object_type == "payout" else "Stripe"


def _lines(record: dict[str, Any] | None, currency: str, locale: str, tz: str) -> str:
    if not record:
        return ""
    shown = []
    for key, label in _FIELDS:
        value = record.get(key)
        if value is None or value == "":
            continue
        if key in ("amount", "fee", "net"):
            text = format_money(int(value), str(record.get("currency") or currency), locale)
        elif key == "type":
            text = labels.balance_type(str(value))
        elif key == "status":
            text = labels.status(str(value))
        elif key == "rail":
            text = RAILS.get(str(value), str(value))
        elif key in ("created", "arrival_date"):
            text = _when(datetime.fromisoformat(str(value)), locale, tz)
        else:
            text = str(value)
        shown.append(f"{label}: {text}")
    return "\n".join(shown)


def _when(value: datetime | None, locale: str, tz: str) -> str:
    if value is None:
        return "—"
    local = value.astimezone(periods.zone(tz))
    return format_datetime(local, "medium", tzinfo=local.tzinfo, locale=locale)
