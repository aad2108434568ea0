"""What a signed-in member does from the portal's Subscriptions pages: the list (filtered by
status, keyset-paged), one subscription's page (items, period, trial, card, invoices,
timeline) and its actions: cancel now or at the period's end, pause and resume collection,
change an item's quantity.

Each function takes the member's Viewer and checks the permission matrix first (seeing:
view_data; acting: manage_billing). In live mode, ending a subscription at once also asks for
a fresh second factor (StepUpRequired reaches the page, which asks for a code and runs the
action again). Then it opens its own unit of work and calls the billing engine's functions in
subscriptions.py, the same ones the REST API calls. The page's state only calls these.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import Customer, PaymentMethod
from backend.models.billing import Subscription
from backend.models.enums import SubscriptionStatus
from backend.services import labels
from backend.services.billing import invoices, subscriptions
from backend.services.billing.billing_views import (
    SUBSCRIPTION_TONES,
    Fact,
    InvoiceRow,
    ItemView,
    Page,
    TimelineEntry,
    amount_words,
    customers_by_id,
    day,
    invoice_row,
    items_by_subscription,
    listing,
    plan_words,
    renewal_words,
    require_manage,
    timeline,
    unit_amounts,
)
from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer

PAGE_SIZE = 25
ENDED = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)
NOT_PAUSABLE = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.TRIALING)
MAX_QUANTITY = subscriptions.MAX_QUANTITY


@dataclass(frozen=True)
class SubscriptionRow:
    id: str
    customer: str
    customer_id: str
    email: str
    plan: str  # "Tea club x 2"
    amount: str  # "$25.00 every month"
    status: str
    status_label: str  # "Past due"
    tone: str
    renewal: str  # "Mar 31, 2026", "Cancels Mar 31, 2026", "Ended …"


def _rows(db: Session, subs: list[Subscription], viewer: Viewer) -> list[SubscriptionRow]:
    ids = [s.id for s in subs]
    items = items_by_subscription(db, ids, viewer)
    totals = unit_amounts(db, ids)
    who = customers_by_id(db, (s.customer_id for s in subs))
    rows = []
    for sub in subs:
        mine = items.get(sub.id, [])
        customer = who.get(sub.customer_id)
        rows.append(
            SubscriptionRow(
                id=sub.id,
                customer=customer.name if customer else sub.customer_id,
                customer_id=sub.customer_id,
                email=customer.email if customer else "",
                plan=plan_words(mine),
                amount=amount_words(sub, mine, totals.get(sub.id, 0), viewer),
                status=sub.status,
                status_label=labels.status(sub.status),
                tone=SUBSCRIPTION_TONES.get(sub.status, "neutral"),
                renewal=renewal_words(sub, viewer),
            )
        )
    return rows


def subscription_list(
    viewer: Viewer,
    *,
    status: str | None = None,
    customer_id: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page[SubscriptionRow]:
    """The merchant's subscriptions, newest first, optionally of one status or customer."""
    return listing(
        viewer,
        subscriptions.list_subscriptions,
        _rows,
        SubscriptionStatus,
        status=status,
        customer_id=customer_id,
        cursor=cursor,
        limit=limit,
    )


@dataclass(frozen=True)
class SubscriptionPage:
    row: SubscriptionRow
    items: list[ItemView]
    facts: list[Fact]  # period, trial, card, created, cancellation…
    invoices: list[InvoiceRow]
    more_invoices: bool
    timeline: list[TimelineEntry]
    can_manage: bool
    # What may be done now, given its status (the engine refuses the rest anyway).
    can_cancel: bool
    can_cancel_at_period_end: bool
    can_undo_cancel: bool
    can_pause: bool
    can_resume: bool
    can_change_quantity: bool


def _card(db: Session, sub: Subscription) -> str:
    method_id = sub.default_payment_method_id
    if method_id is None:
        customer = db.get(Customer, sub.customer_id)
        method_id = customer.default_payment_method_id if customer else None
        suffix = " (the customer's default)"
    else:
        suffix = ""
    method = db.get(PaymentMethod, method_id) if method_id else None
    if method is None:
        return "No card saved"
    return f"{labels.card_brand(method.brand)} •••• {method.last4}{suffix}"


def _facts(db: Session, sub: Subscription, viewer: Viewer) -> list[Fact]:
    facts = [
        Fact(
            "Current period",
            f"{day(sub.current_period_start, viewer)} to {day(sub.current_period_end, viewer)}",
        ),
        Fact("Next renewal", renewal_words(sub, viewer)),
    ]
    if sub.trial_end:
        ended = sub.status != SubscriptionStatus.TRIALING
        facts.append(
            Fact(
                "Trial",
                f"{day(sub.trial_start, viewer)} to {day(sub.trial_end, viewer)}"
                + (" (over)" if ended else ""),
            )
        )
    else:
        facts.append(Fact("Trial", "No trial"))
    facts.append(Fact("Card charged", _card(db, sub)))
    if sub.pause_behavior:
        facts.append(
            Fact(
                "Collection",
                "Paused: invoices meanwhile are "
                + {
                    "void": "voided",
                    "keep_as_draft": "kept as drafts",
                    "mark_uncollectible": "marked uncollectible",
                }.get(sub.pause_behavior, labels.words(sub.pause_behavior).lower()),
            )
        )
    if sub.canceled_at:
        # With cancel_at_period_end, canceled_at is when the cancellation was asked for.
        label = "Cancellation asked" if sub.cancel_at_period_end else "Canceled"
        facts.append(Fact(label, day(sub.canceled_at, viewer)))
    if sub.cancellation_reason:
        facts.append(Fact("Why it ended", _reason(sub.cancellation_reason)))
    facts.append(Fact("Started", day(sub.created_at, viewer)))
    return facts


CANCELLATION_REASONS = {
    "requested": "Canceled on request",
    "payment_failed": "Payment retries ran out",
}


def _reason(code: str) -> str:
    return CANCELLATION_REASONS.get(code) or labels.words(code)


def subscription_page(viewer: Viewer, subscription_id: str) -> SubscriptionPage:
    viewer.require(Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        sub = subscriptions.get_subscription(db, viewer.scope, subscription_id)
        [row] = _rows(db, [sub], viewer)
        items = items_by_subscription(db, [sub.id], viewer).get(sub.id, [])
        found, next_cursor = invoices.list_invoices(
            db, viewer.scope, subscription_id=sub.id, limit=PAGE_SIZE
        )
        who = customers_by_id(db, [sub.customer_id])
        invoice_rows = [invoice_row(i, who.get(i.customer_id), viewer) for i in found]
        events = timeline(
            db,
            viewer.ctx.merchant_id,
            [sub.id, *(i.id for i in found)],
            viewer,
            sub.currency,
            {i.id: f"Invoice {i.number or 'draft'}" for i in found},
        )
        facts = _facts(db, sub, viewer)
    live = sub.status not in ENDED
    paused = bool(sub.pause_behavior) or sub.status == SubscriptionStatus.PAUSED
    return SubscriptionPage(
        row=row,
        items=items,
        facts=facts,
        invoices=invoice_rows,
        more_invoices=next_cursor is not None,
        timeline=events,
        can_manage=viewer.can(Permission.MANAGE_BILLING),
        can_cancel=live,
        can_cancel_at_period_end=live and not sub.cancel_at_period_end,
        can_undo_cancel=live and sub.cancel_at_period_end,
        # Only a paying subscription's collection pauses (the engine refuses the others).
        can_pause=live and not paused and sub.status not in NOT_PAUSABLE,
        can_resume=live and paused,
        can_change_quantity=live,
    )


# --- actions -------------------------------------------------------------------------------


def cancel(
    viewer: Viewer, subscription_id: str, *, at_period_end: bool, ip: str | None = None
) -> Subscription:
    """Cancel now (live mode asks for a fresh second factor) or at the period's end."""
    with session_scope() as db:
        require_manage(viewer, db, sensitive=not at_period_end)
        return subscriptions.cancel_subscription(
            db,
            viewer.scope,
            subscription_id,
            at_period_end=bool(at_period_end),
            actor=viewer.actor(ip),
        )


def keep(viewer: Viewer, subscription_id: str, ip: str | None = None) -> Subscription:
    """Take back a cancellation at the period's end: it renews again."""
    with session_scope() as db:
        require_manage(viewer, db, sensitive=False)
        return subscriptions.update_subscription(
            db, viewer.scope, subscription_id, cancel_at_period_end=False, actor=viewer.actor(ip)
        )


PAUSE_BEHAVIOR = "void"  # Stripe's default: the invoices of a paused period are voided


def pause(viewer: Viewer, subscription_id: str, ip: str | None = None) -> Subscription:
    """Pause collection until resumed: the invoices meanwhile are voided, nothing is charged."""
    with session_scope() as db:
        require_manage(viewer, db, sensitive=False)
        return subscriptions.update_subscription(
            db,
            viewer.scope,
            subscription_id,
            pause_collection={"behavior": PAUSE_BEHAVIOR},
            actor=viewer.actor(ip),
        )


def resume(viewer: Viewer, subscription_id: str, ip: str | None = None) -> Subscription:
    with session_scope() as db:
        require_manage(viewer, db, sensitive=False)
        return subscriptions.update_subscription(
            db, viewer.scope, subscription_id, pause_collection=None, actor=viewer.actor(ip)
        )


def parse_quantity(text: object) -> int:
    value = str(text or "").strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_QUANTITY:
        raise ValidationFailed(
            f"A quantity is a whole number from 1 to {MAX_QUANTITY:,}", param="quantity"
        )
    return int(value)


def change_quantity(
    viewer: Viewer, subscription_id: str, item_id: str, quantity: object, ip: str | None = None
) -> Subscription:
    """Change one item's quantity; the change is prorated as the engine does by default."""
    count = parse_quantity(quantity)
    with session_scope() as db:
        require_manage(viewer, db, sensitive=False)
        sub = subscriptions.get_subscription(db, viewer.scope, subscription_id)
        items = subscriptions.items_of(db, sub)
        if item_id not in {item.id for item, _price in items}:
            raise NotFound("No such item on this subscription", param="item")
        return subscriptions.update_subscription(
            db,
            viewer.scope,
            subscription_id,
            items=[
                {"priceId": price.id, "quantity": count if item.id == item_id else item.quantity}
                for item, price in items
            ],
            actor=viewer.actor(ip),
        )


def customer_subscriptions(viewer: Viewer, customer_id: str) -> Page[SubscriptionRow]:
    """A customer's subscriptions, for their page (the newest 25)."""
    return subscription_list(viewer, customer_id=customer_id)
