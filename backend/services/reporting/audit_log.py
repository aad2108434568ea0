"""Reading the audit log: filters, keyset pages for the portal, and a streamed CSV export.

Dates in filters are whole days in the merchant's time zone. Pages and the export walk the log
newest first by (created_at, id), a batch at a time, so neither holds the whole log in memory
however long it grows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import ApiKey, AuditLog, Dispute, Order, Payment, Refund, User
from backend.models.enums import ActorType
from backend.services import labels

PAGE_SIZE = 50
EXPORT_BATCH = 500
CSV_COLUMNS = [
    "time_utc",
    "actor_type",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "mode",
    "ip_address",
    "details",
]
_ACTOR_GROUP_LABELS = {
    ActorType.SYSTEM: "PayPortal and customers",
    ActorType.WEBHOOK: "Stripe",
    ActorType.API_KEY: "API keys",
}
# System actors by their id: who acted when no member, key or provider did.
_SYSTEM_ACTORS = {"checkout": "Customer at checkout", "payment_link": "Customer (payment link)"}
# Details that hold an amount in minor units, shown as money.
_AMOUNT_KEYS = ("amount", "amountCents", "amount_refunded", "limit")
# The objects whose audit rows carry an amount in their currency.
_MONEY_OBJECTS: dict[str, Any] = {
    "payment": Payment,
    "refund": Refund,
    "dispute": Dispute,
    "order": Order,
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # "user:<id>" or "type:<actor type>"; empty: everyone
    action: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive


@dataclass(frozen=True)
class AuditEntry:
    id: str
    created_at: datetime
    actor_type: str
    actor_id: str
    actor: str  # who acted, in words: a member's name or e-mail, "API key sk_test_…4242", "Stripe"
    action: str
    action_label: str
    object_type: str
    object_id: str
    livemode: bool
    ip_address: str
    details: dict[str, Any]
    currency: str = ""  # of the object's amounts, when it has any

    @property
    def object_label(self) -> str:
        """ "Payment pay_…", "Checkout session cs_…"; "—" for none."""
        kind = labels.object_type(self.object_type) if self.object_type else ""
        return f"{kind} {self.object_id}".strip() or "—"

    @property
    def summary(self) -> str:
        return describe(self.details, self.currency)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class Facets:
    """The choices the filters offer: actors (value, label), actions and object types in use."""

    actors: list[tuple[str, str]]
    actions: list[str]
    object_types: list[str]


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _parse_day(value: object, param: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationFailed("Give dates as YYYY-MM-DD", param=param)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"'{value[:20]}' is not a date (YYYY-MM-DD)", param=param) from None


def _short(value: object, limit: int = 100) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def parse_filters(
    *,
    actor: object = "",
    action: object = "",
    object_type: object = "",
    date_from: object = "",
    date_to: object = "",
) -> AuditFilters:
    start = _parse_day(date_from, "from")
    end = _parse_day(date_to, "to")
    if start and end and start > end:
        raise ValidationFailed("The start date is after the end date", param="from")
    return AuditFilters(_short(actor, 60), _short(action), _short(object_type, 40), start, end)


def _conditions(merchant_id: str, filters: AuditFilters, tz: ZoneInfo) -> list[Any]:
    where: list[Any] = [col(AuditLog.merchant_id) == merchant_id]
    if filters.actor.startswith("user:"):
        where += [
            col(AuditLog.actor_type) == ActorType.USER,
            col(AuditLog.actor_id) == filters.actor[5:],
        ]
    elif filters.actor.startswith("type:"):
        where.append(col(AuditLog.actor_type) == filters.actor[5:])
    if filters.action:
        where.append(col(AuditLog.action) == filters.action)
    if filters.object_type:
        where.append(col(AuditLog.object_type) == filters.object_type)
    if filters.date_from:
        where.append(col(AuditLog.created_at) >= _day_start(filters.date_from, tz))
    if filters.date_to:
        where.append(col(AuditLog.created_at) < _day_start(filters.date_to + timedelta(days=1), tz))
    return where


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _encode_cursor(row: AuditLog) -> str:
    return f"{row.created_at.astimezone(UTC).isoformat()}|{row.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, row_id = cursor.split("|", 1)
        return datetime.fromisoformat(stamp).astimezone(UTC), row_id[:40]
    except ValueError:
        raise ValidationFailed(
            "That page of the audit log no longer exists", param="cursor"
        ) from None


def _batch(
    db: Session, where: list[Any], cursor: str | None, limit: int
) -> tuple[list[AuditLog], str | None]:
    conditions = list(where)
    if cursor:
        at, row_id = _decode_cursor(cursor)
        conditions.append(
            or_(
                col(AuditLog.created_at) < at,
                and_(col(AuditLog.created_at) == at, col(AuditLog.id) < row_id),
            )
        )
    rows = list(
        db.exec(
            select(AuditLog)
            .where(*conditions)
            .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1]) if more and rows else None)


def actor_names(db: Session, rows: list[AuditLog]) -> dict[tuple[str, str], str]:
    """Readable names of the actors of these rows, looked up once per batch: a member's name
    (or e-mail when they gave none), an API key by its visible part."""
    users = {r.actor_id for r in rows if r.actor_type == ActorType.USER and r.actor_id}
    keys = {r.actor_id for r in rows if r.actor_type == ActorType.API_KEY and r.actor_id}
    names: dict[tuple[str, str], str] = {}
    if users:
        found = db.exec(select(User.id, User.full_name, User.email).where(col(User.id).in_(users)))
        for user_id, full_name, email in found:
            names[(ActorType.USER, user_id)] = (full_name or "").strip() or email
    if keys:
        for key in db.exec(select(ApiKey).where(col(ApiKey.id).in_(keys))):
            names[(ActorType.API_KEY, key.id)] = f"API key {key.display_prefix}…{key.last4}"
    return names


def actor_name(row: AuditLog, names: dict[tuple[str, str], str]) -> str:
    """Who did it, in words, from `actor_names`' lookup (a deleted member reads "Team member")."""
    found = names.get((row.actor_type, row.actor_id or ""))
    if found:
        return found
    if row.actor_type == ActorType.SYSTEM:
        return _SYSTEM_ACTORS.get(row.actor_id or "", "PayPortal")
    return labels.actor_type(row.actor_type)


def currencies(db: Session, rows: list[AuditLog]) -> dict[str, str]:
    """The currency of each object (payment, refund, dispute, order) these rows are about."""
    wanted: dict[str, set[str]] = {}
    for r in rows:
        if r.object_type in _MONEY_OBJECTS and r.object_id:
            wanted.setdefault(r.object_type, set()).add(r.object_id)
    found: dict[str, str] = {}
    for object_type, ids in wanted.items():
        model = _MONEY_OBJECTS[object_type]
        found.update(db.exec(select(model.id, model.currency).where(col(model.id).in_(ids))).all())
    return found


def _entries(db: Session, rows: list[AuditLog]) -> list[AuditEntry]:
    names = actor_names(db, rows)
    money_in = currencies(db, rows)
    return [
        AuditEntry(
            id=r.id,
            created_at=r.created_at,
            actor_type=r.actor_type,
            actor_id=r.actor_id or "",
            actor=actor_name(r, names),
            action=r.action,
            action_label=labels.action(r.action),
            object_type=r.object_type or "",
            object_id=r.object_id or "",
            livemode=r.livemode,
            ip_address=r.ip_address or "",
            details=dict(r.details or {}),
            currency=str((r.details or {}).get("currency") or money_in.get(r.object_id or "", "")),
        )
        for r in rows
    ]


def search(
    db: Session,
    *,
    merchant_id: str,
    filters: AuditFilters,
    timezone: str = "UTC",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    limit = max(1, min(limit, 200))
    rows, next_cursor = _batch(db, _conditions(merchant_id, filters, zone(timezone)), cursor, limit)
    return AuditPage(_entries(db, rows), next_cursor)


def facets(db: Session, merchant_id: str) -> Facets:
    mine = col(AuditLog.merchant_id) == merchant_id
    actions = sorted(db.exec(select(AuditLog.action).where(mine).distinct()))
    object_types = sorted(
        t for t in db.exec(select(AuditLog.object_type).where(mine).distinct()) if t
    )
    pairs = db.exec(select(AuditLog.actor_type, AuditLog.actor_id).where(mine).distinct()).all()
    user_ids = {a for t, a in pairs if t == ActorType.USER and a}
    found = (
        db.exec(select(User.id, User.full_name, User.email).where(col(User.id).in_(user_ids)))
        if user_ids
        else []
    )
    names = {uid: (full_name or "").strip() or email for uid, full_name, email in found}
    actors = sorted((f"user:{uid}", names.get(uid, uid)) for uid in user_ids)
    kinds = sorted({t for t, _ in pairs if t != ActorType.USER})
    actors += [(f"type:{t}", _ACTOR_GROUP_LABELS.get(t, t)) for t in kinds]
    return Facets(actors, actions, object_types)


def describe(details: dict[str, Any], currency: str = "") -> str:
    """Details as one readable line: "Amount: $12.34 · Status: Partially refunded",
    "Email: a@b.test · From: Analyst · To: Support"."""
    currency = currency or str(details.get("currency") or "")
    shown = [(k, v) for k, v in details.items() if not (k == "currency" and "amount" in details)]
    shown.sort(key=lambda item: item[0] not in _AMOUNT_KEYS)  # the money first
    return " · ".join(f"{labels.words(k)}: {_value(k, v, currency)}" for k, v in shown)


def _value(key: str, value: Any, currency: str) -> str:
    if key in _AMOUNT_KEYS and isinstance(value, int) and currency:
        return format_money(value, currency)
    if key == "status" and isinstance(value, str):
        return labels.status(value)
    if isinstance(value, str) and value in labels.ROLES:  # from/to of a role change
        return labels.role(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def format_time(moment: datetime, timezone: str, locale: str = "en_US") -> str:
    return format_datetime(moment, "d MMM yyyy, HH:mm:ss", tzinfo=zone(timezone), locale=locale)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_cell(v) for v in values])
    return buffer.getvalue()


def iter_csv(
    *,
    merchant_id: str,
    filters: AuditFilters,
    timezone: str = "UTC",
    batch_size: int = EXPORT_BATCH,
    engine: Engine | None = None,
) -> Iterator[str]:
    """The filtered log as CSV lines, newest first, read batch_size rows at a time.

    Each batch is its own short read-only unit of work: a slow download holds no transaction
    (and on SQLite no snapshot) open between batches.
    """
    where = _conditions(merchant_id, filters, zone(timezone))
    yield _csv_line(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        with session_scope(engine, readonly=True) as db:
            rows, cursor = _batch(db, where, cursor, batch_size)
            entries = _entries(db, rows)
        for e in entries:
            yield _csv_line(
                [
                    e.created_at.astimezone(UTC)
                    .isoformat(timespec="seconds")
                    .replace("+00:00", "Z"),
                    e.actor_type,
                    e.actor_id,
                    e.actor,
                    e.action,
                    e.object_type,
                    e.object_id,
                    "live" if e.livemode else "test",
                    e.ip_address,
                    json.dumps(e.details, sort_keys=True, default=str) if e.details else "",
                ]
            )
        if cursor is None:
            return
