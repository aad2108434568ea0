"""How the portal's billing pages show subscriptions and invoices: statuses in words with a
tone for their badge, plans and amounts in words and money, dates in the merchant's time zone
and locale, and a timeline from the audit trail; and what their lists and actions share (a
status filter, a page of rows, the permission and step-up check). Shared by
subscription_pages.py and invoice_pages.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from babel.dates import format_date, format_datetime
from sqlmodel import Session, col, select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import AuditLog, Customer, DomainEvent
from backend.models.billing import Invoice, Price, Product, Subscription, SubscriptionItem
from backend.models.enums import InvoiceStatus, SubscriptionStatus
from backend.services import labels
from backend.services.identity import step_up
from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer
from backend.services.reporting import audit_log
from backend.services.reporting.periods import zone

# A badge's tone: good (green), info (blue), warning (amber), bad (red), neutral (gray).
SUBSCRIPTION_TONES: dict[str, str] = {
    SubscriptionStatus.ACTIVE: "good",
    SubscriptionStatus.TRIALING: "info",
    SubscriptionStatus.PAST_DUE: "warning",
    SubscriptionStatus.UNPAID: "bad",
    SubscriptionStatus.INCOMPLETE: "warning",
    SubscriptionStatus.INCOMPLETE_EXPIRED: "neutral",
    SubscriptionStatus.PAUSED: "neutral",
    SubscriptionStatus.CANCELED: "neutral",
}
INVOICE_TONES: dict[str, str] = {
    InvoiceStatus.DRAFT: "neutral",
    InvoiceStatus.OPEN: "info",
    InvoiceStatus.PAID: "good",
    InvoiceStatus.UNCOLLECTIBLE: "bad",
    InvoiceStatus.VOID: "neutral",
}
# The status filters of the lists, in the order a merchant looks for them ("" is all).
SUBSCRIPTION_FILTERS: list[tuple[str, str]] = [
    ("", "All"),
    *((s.value, labels.status(s)) for s in SubscriptionStatus),
]
INVOICE_FILTERS: list[tuple[str, str]] = [
    ("", "All"),
    *((s.value, labels.status(s)) for s in InvoiceStatus),
]


Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: list[Row]
    next_cursor: str | None


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


def parse_status(vocabulary: type[StrEnum], value: str | None) -> str | None:
    """A list's status filter: None for all, else one of the vocabulary's codes."""
    if not value:
        return None
    try:
        return vocabulary(value).value
    except ValueError:
        raise ValidationFailed("Choose a status from the list", param="status") from None


def listing(
    viewer: Viewer,
    fetch: Callable[..., tuple[Sequence[Any], str | None]],
    to_rows: Callable[[Session, list[Any], Viewer], list[Row]],
    vocabulary: type[StrEnum],
    *,
    status: str | None,
    customer_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Row]:
    """One page of a billing list (newest first), of one status or customer if given:
    `fetch` is the engine's list function, `to_rows` makes its rows."""
    viewer.require(Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        found, next_cursor = fetch(
            db,
            viewer.scope,
            customer_id=customer_id or None,
            status=parse_status(vocabulary, status),
            limit=limit,
            cursor=cursor or None,
        )
        return Page(to_rows(db, list(found), viewer), next_cursor)


def require_manage(viewer: Viewer, db: Session, *, sensitive: bool) -> None:
    """Changing billing needs manage_billing; in live mode what cannot be undone (ending a
    subscription now, voiding or writing off an invoice) also a fresh second factor."""
    viewer.require(Permission.MANAGE_BILLING)
    if sensitive and viewer.scope.livemode:
        step_up.require_fresh(db, viewer.ctx.session_id)


def day(value: datetime | None, viewer: Viewer) -> str:
    if value is None:
        return "—"
    return format_date(value.astimezone(zone(viewer.timezone)), "medium", locale=viewer.locale)


def moment(value: datetime | None, viewer: Viewer) -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone(viewer.timezone))
    return format_datetime(local, "medium", tzinfo=local.tzinfo, locale=viewer.locale)


def money(amount: int, currency: str, viewer: Viewer) -> str:
    return format_money(amount, currency, viewer.locale)


@dataclass(frozen=True)
class Who:
    name: str  # the customer's name, else e-mail, else id
    email: str


def customers_by_id(db: Session, ids: Iterable[str]) -> dict[str, Who]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.exec(select(Customer).where(col(Customer.id).in_(wanted))).all()
    return {c.id: Who(c.name or c.email or c.id, c.email or "") for c in rows}


@dataclass(frozen=True)
class ItemView:
    id: str
    price_id: str
    product: str  # the product's name
    price: str  # "$12.50 every month"
    quantity: int
    amount: str  # unit x quantity, "$25.00"
    interval: str | None
    interval_count: int | None


def items_by_subscription(
    db: Session, subscription_ids: Sequence[str], viewer: Viewer
) -> dict[str, list[ItemView]]:
    """Each subscription's items with their prices and products' names, oldest item first."""
    if not subscription_ids:
        return {}
    rows = db.exec(
        select(SubscriptionItem, Price, Product)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .join(Product, col(Product.id) == Price.product_id)
        .where(col(SubscriptionItem.subscription_id).in_(list(subscription_ids)))
        .order_by(col(SubscriptionItem.created_at), col(SubscriptionItem.id))
    ).all()
    found: dict[str, list[ItemView]] = defaultdict(list)
    for item, price, product in rows:
        unit = money(price.unit_amount, price.currency, viewer)
        every = labels.recurrence(price.recurring_interval, price.recurring_interval_count)
        found[item.subscription_id].append(
            ItemView(
                id=item.id,
                price_id=price.id,
                product=product.name,
                price=f"{unit} {every}",
                quantity=item.quantity,
                amount=money(price.unit_amount * item.quantity, price.currency, viewer),
                interval=price.recurring_interval,
                interval_count=price.recurring_interval_count,
            )
        )
    return found


def unit_amounts(db: Session, subscription_ids: Sequence[str]) -> dict[str, int]:
    """Each subscription's items' unit amount x quantity, summed (a period's bill)."""
    if not subscription_ids:
        return {}
    rows = db.exec(
        select(SubscriptionItem.subscription_id, Price.unit_amount, SubscriptionItem.quantity)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .where(col(SubscriptionItem.subscription_id).in_(list(subscription_ids)))
    ).all()
    totals: dict[str, int] = defaultdict(int)
    for sub_id, unit, quantity in rows:
        totals[sub_id] += unit * quantity
    return totals


def plan_words(items: Sequence[ItemView]) -> str:
    """ "Tea club", "Tea club x 3", "Tea club and Mug", "Tea club and 2 more"."""
    if not items:
        return "No items"
    names = [f"{i.product} × {i.quantity}" if i.quantity > 1 else i.product for i in items]  # noqa: RUF001
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {len(names) - 1} more"


def amount_words(sub: Subscription, items: Sequence[ItemView], total: int, viewer: Viewer) -> str:
    """What a period bills: "$25.00 every month" (items of a subscription share an interval)."""
    if not items:
        return "—"
    first = items[0]
    every = labels.recurrence(first.interval, first.interval_count)
    return f"{money(total, sub.currency, viewer)} {every}"


def renewal_words(sub: Subscription, viewer: Viewer) -> str:
    """When it next bills, or why it does not."""
    status = sub.status
    if status in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED):
        return f"Ended {day(sub.ended_at or sub.canceled_at, viewer)}"
    if sub.cancel_at_period_end:
        return f"Cancels {day(sub.current_period_end, viewer)}"
    if sub.pause_behavior or status == SubscriptionStatus.PAUSED:
        if sub.pause_resumes_at:
            return f"Paused until {day(sub.pause_resumes_at, viewer)}"
        return "Collection paused"
    if status == SubscriptionStatus.TRIALING and sub.trial_end:
        return f"Trial ends {day(sub.trial_end, viewer)}"
    if status == SubscriptionStatus.UNPAID:
        return "Not renewing: unpaid"
    return day(sub.current_period_end, viewer)


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    number: str  # "ABCD1234-0001", or "Draft" before it is finalized
    customer: str
    customer_id: str
    amount_due: str
    amount_paid: str
    status: str
    status_label: str
    tone: str
    date: str


def invoice_row(invoice: Invoice, who: Who | None, viewer: Viewer) -> InvoiceRow:
    return InvoiceRow(
        id=invoice.id,
        number=invoice.number or "Draft",
        customer=(who.name if who else invoice.customer_name or invoice.customer_email or "—"),
        customer_id=invoice.customer_id,
        amount_due=money(invoice.amount_due, invoice.currency, viewer),
        amount_paid=money(invoice.amount_paid, invoice.currency, viewer),
        status=invoice.status,
        status_label=labels.status(invoice.status),
        tone=INVOICE_TONES.get(invoice.status, "neutral"),
        date=day(invoice.finalized_at or invoice.created_at, viewer),
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    title: str
    detail: str
    actor: str


def timeline(
    db: Session,
    merchant_id: str,
    object_ids: Sequence[str],
    viewer: Viewer,
    currency: str,
    names: dict[str, str] | None = None,
) -> list[TimelineEntry]:
    """What happened to these objects, newest first, in words: the audit trail (who did
    what), and the events sent about them that the audit trail does not already say.
    `names` says which object a row is about ("Invoice ABCD-0001") where several are shown."""
    names = names or {}

    def about(object_id: str | None, detail: str) -> str:
        name = names.get(object_id or "")
        return " · ".join(part for part in (name, detail) if part)

    if not object_ids:
        return []
    rows = list(
        db.exec(
            select(AuditLog)
            .where(AuditLog.merchant_id == merchant_id, col(AuditLog.object_id).in_(object_ids))
            .order_by(col(AuditLog.created_at).desc())
            .limit(200)
        )
    )
    actors = audit_log.actor_names(db, rows)
    found: list[tuple[datetime, TimelineEntry]] = [
        (
            row.created_at,
            TimelineEntry(
                moment(row.created_at, viewer),
                labels.action(row.action),
                about(row.object_id, _detail(row.details or {}, currency, viewer)),
                audit_log.actor_name(row, actors),
            ),
        )
        for row in rows
    ]
    said = {(row.action, row.object_id) for row in rows}
    events = db.exec(
        select(DomainEvent)
        .where(DomainEvent.merchant_id == merchant_id, col(DomainEvent.object_id).in_(object_ids))
        .order_by(col(DomainEvent.created_at).desc())
        .limit(200)
    ).all()
    for event in events:
        if (event.type, event.object_id) in said:
            continue
        found.append(
            (
                event.created_at,
                TimelineEntry(
                    moment(event.created_at, viewer),
                    labels.event_type(event.type),
                    about(event.object_id, ""),
                    "",
                ),
            )
        )
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in found[:200]]


# What a subscription's "changed" audit row says changed (the engine's details), in words.
CHANGES: dict[str, tuple[str, str]] = {  # key: (words when truthy, words when not)
    "cancelAtPeriodEnd": ("Set to cancel at the period's end", "Set to renew again"),
    "pauseCollection": ("Collection paused", "Collection resumed"),
    "items": ("Items or quantities changed", "Items or quantities changed"),
    "defaultPaymentMethod": ("Card changed", "Card changed to the customer's default"),
    "metadata": ("Metadata changed", "Metadata changed"),
}


def _detail(details: dict[str, object], currency: str, viewer: Viewer) -> str:
    parts = []
    amount = details.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool):
        parts.append(money(amount, str(details.get("currency") or currency).upper(), viewer))
    if isinstance(details.get("status"), str):
        parts.append(labels.status(str(details["status"])))
    if isinstance(details.get("from"), str) and isinstance(details.get("to"), str):
        parts.append(f"{labels.status(str(details['from']))} → {labels.status(str(details['to']))}")
    for key, (yes, no) in CHANGES.items():
        if key in details:
            parts.append(yes if details[key] else no)
    for key in ("reason", "code"):
        if details.get(key):
            parts.append(labels.words(str(details[key])))
    return " · ".join(parts)
