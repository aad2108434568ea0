"""Subscriptions: a customer billed for one or more recurring prices, period after period.

Created with its items (prices of one currency and one interval, a quantity each), an optional
trial and card. Without a trial the first period's invoice is charged at once: paid, the
subscription is `active`; otherwise `incomplete` until the customer pays it (23 hours, then
`incomplete_expired`). With a trial it is `trialing` (a zero invoice records the trial) and the
trial's end is the billing-cycle anchor: the first paid period starts then.

Changing items or quantities mid-period prorates (backend/services/billing/proration.py): the
unused time of what changed is credited and the remaining time of the new charged, both as
lines on the next invoice (`create_prorations`, the default), on an invoice charged at once
(`always_invoice`), or not at all (`none`). A trial prorates nothing (nothing was billed).

Cancel now or at the period's end; pause collection (its invoices voided, kept as drafts or
marked uncollectible while paused) and resume. Every change writes its audit row and its
`customer.subscription.*` event. Renewals, retries and ends are the engine's
(backend/services/billing/engine.py), at the subscription's clock's time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlmodel import Session, col, select

from backend.core.errors import Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.models import Customer, Payment
from backend.models.billing import Price, Product, Subscription, SubscriptionItem
from backend.models.enums import BillingReason, InvoiceStatus, SubscriptionStatus
from backend.services.billing import catalogue, changes, dunning, invoices
from backend.services.billing.clock import now_for
from backend.services.billing.invoices import LineDraft
from backend.services.billing.periods import Period, Recurrence, next_period_end, trial_end
from backend.services.billing.proration import Item, prorate
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.customers import payment_methods, records
from backend.services.paging import keyset_page
from backend.services.payments.orders import owned, validate_metadata

MAX_ITEMS = 20
MAX_QUANTITY = 1_000_000
PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")
PAUSE_BEHAVIORS = ("void", "keep_as_draft", "mark_uncollectible")
items_of = changes.items_of


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()  # a field the update leaves as it is


# --- reading ------------------------------------------------------------------------------------


def get_subscription(
    db: Session, scope: Scope, subscription_id: str, *, lock: bool = False
) -> Subscription:
    return owned(db, Subscription, scope, subscription_id, param="subscriptionId", lock=lock)


def list_subscriptions(
    db: Session,
    scope: Scope,
    *,
    customer_id: str | None = None,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Subscription], str | None]:
    query = select(Subscription).where(
        Subscription.merchant_id == scope.merchant_id, Subscription.livemode == scope.livemode
    )
    if customer_id is not None:
        query = query.where(Subscription.customer_id == customer_id)
    if status is not None:
        if status not in set(SubscriptionStatus):
            raise ValidationFailed(
                f"status must be one of: {', '.join(SubscriptionStatus)}", param="status"
            )
        query = query.where(Subscription.status == status)
    return keyset_page(db, scope, Subscription, query, limit, cursor)


# --- creating -----------------------------------------------------------------------------------


def create_subscription(
    db: Session,
    scope: Scope,
    *,
    customer_id: object,
    items: object,
    trial_days: object = None,
    default_payment_method: object = None,
    metadata: object = None,
    on_session: bool = False,
    paid_by: Payment | None = None,
    actor: Actor = SYSTEM,
) -> Subscription:
    """A new subscription of the customer, its first invoice charged at once unless it starts
    with a trial (`on_session`: the customer is here to authenticate).

    `paid_by`: the first invoice was already paid by this payment, taken by the checkout of a
    subscription's payment link through the one charge path; it settles the invoice instead
    of a second charge (it must be the customer's, succeeded, of exactly the invoice's amount
    and currency)."""
    if not isinstance(customer_id, str):
        raise ValidationFailed("customerId is required", param="customerId")
    customer = records.get_customer(db, scope, customer_id)
    wanted = _parse_items(db, scope, items)
    currency, recurrence = _one_plan(wanted)
    card = _card(db, scope, customer.id, default_payment_method)
    days = _trial_days(trial_days)
    if card is None and customer.default_payment_method_id is None and days is None and not paid_by:
        raise ValidationFailed(
            f"Customer {customer.id} has no saved card: attach one first, or start with a trial",
            code="payment_method_missing",
            param="defaultPaymentMethod",
        )
    now = now_for(db, customer.test_clock_id)
    ends_trial = trial_end(now, days) if days is not None else None
    anchor = ends_trial or now
    subscription = Subscription(
        id=new_id("sub"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        customer_id=customer.id,
        test_clock_id=customer.test_clock_id,
        status=SubscriptionStatus.TRIALING if ends_trial else SubscriptionStatus.INCOMPLETE,
        currency=currency,
        default_payment_method_id=card,
        billing_cycle_anchor=anchor,
        current_period_start=now,
        current_period_end=ends_trial or next_period_end(anchor, now, recurrence),
        trial_start=now if ends_trial else None,
        trial_end=ends_trial,
        metadata_=validate_metadata(metadata),
        created_at=now,
        updated_at=now,
    )
    db.add(subscription)
    db.flush()
    for price, quantity in wanted:
        db.add(
            SubscriptionItem(
                id=new_id("si"),
                subscription_id=subscription.id,
                price_id=price.id,
                quantity=quantity,
                created_at=now,
            )
        )
    db.flush()
    changes.subscription_changed(db, actor, "customer.subscription.created", subscription)
    period = Period(subscription.current_period_start, subscription.current_period_end)
    lines = period_lines(db, subscription, period, trial=ends_trial is not None)
    invoice = invoices.draft_for(
        db,
        subscription,
        reason=BillingReason.SUBSCRIPTION_CREATE,
        period=period,
        at=now,
        lines=lines,
        actor=actor,
    )
    invoices.finalize(db, invoice, now, actor=actor)
    if paid_by is not None and invoice.status == InvoiceStatus.OPEN:
        invoices.settle_with(db, invoice, paid_by, now, actor=actor)
    elif invoice.amount_due > 0:
        invoices.attempt(db, invoice, now, off_session=not on_session, actor=actor)
    if (
        invoice.status == InvoiceStatus.PAID
        and subscription.status == SubscriptionStatus.INCOMPLETE
    ):
        dunning.set_status(db, subscription, SubscriptionStatus.ACTIVE, actor)
    dunning.reschedule(db, subscription)
    return subscription


def period_lines(
    db: Session, subscription: Subscription, period: Period, *, trial: bool = False
) -> list[LineDraft]:
    """A line per item for a whole period (a trial's cost nothing)."""
    lines = []
    for item, price in items_of(db, subscription):
        name = _product_name(db, price)
        label = f"{item.quantity} x {name}"
        if trial:
            label = f"Trial period for {name}"
        lines.append(
            LineDraft(
                f"{label} ({_date(period.start)} to {_date(period.end)})",
                0 if trial else price.unit_amount * item.quantity,
                period,
                price_id=price.id,
                quantity=item.quantity,
                unit_amount=0 if trial else price.unit_amount,
            )
        )
    return lines


# --- changing -----------------------------------------------------------------------------------


def update_subscription(
    db: Session,
    scope: Scope,
    subscription_id: str,
    *,
    items: object = UNSET,
    proration_behavior: object = "create_prorations",
    default_payment_method: object = UNSET,
    pause_collection: object = UNSET,
    cancel_at_period_end: object = UNSET,
    metadata: object = UNSET,
    actor: Actor = SYSTEM,
) -> Subscription:
    """Change what is given. `items` is the whole new list ({priceId, quantity}); what it
    changes is prorated per `proration_behavior`."""
    subscription = get_subscription(db, scope, subscription_id, lock=True)
    if subscription.status in dunning.ENDED:
        raise Conflict(
            f"Subscription {subscription.id} has ended: start a new one",
            code="subscription_ended",
        )
    if proration_behavior not in PRORATION_BEHAVIORS:
        raise ValidationFailed(
            f"prorationBehavior must be one of: {', '.join(PRORATION_BEHAVIORS)}",
            param="prorationBehavior",
        )
    now = now_for(db, subscription.test_clock_id)
    changed: dict[str, object] = {}
    if not isinstance(default_payment_method, _Unset):
        subscription.default_payment_method_id = _card(
            db, scope, subscription.customer_id, default_payment_method
        )
        changed["defaultPaymentMethod"] = subscription.default_payment_method_id
    if not isinstance(metadata, _Unset):
        subscription.metadata_ = validate_metadata(metadata)
        changed["metadata"] = True
    if not isinstance(cancel_at_period_end, _Unset):
        if not isinstance(cancel_at_period_end, bool):
            raise ValidationFailed(
                "cancelAtPeriodEnd must be true or false", param="cancelAtPeriodEnd"
            )
        subscription.cancel_at_period_end = cancel_at_period_end
        subscription.canceled_at = now if cancel_at_period_end else None
        changed["cancelAtPeriodEnd"] = cancel_at_period_end
    if not isinstance(pause_collection, _Unset):
        _pause(db, subscription, pause_collection, now, actor)
        changed["pauseCollection"] = subscription.pause_behavior
    if not isinstance(items, _Unset):
        _change_items(db, scope, subscription, items, str(proration_behavior), now, actor)
        changed["items"] = True
    subscription.updated_at = now
    dunning.reschedule(db, subscription)
    changes.subscription_changed(db, actor, "customer.subscription.updated", subscription, changed)
    return subscription


def set_payment_method(
    db: Session,
    scope: Scope,
    subscription_id: str,
    payment_method_id: str,
    *,
    actor: Actor = SYSTEM,
) -> Subscription:
    """The card the subscription's invoices are charged to (the customer's, attached)."""
    return update_subscription(
        db, scope, subscription_id, default_payment_method=payment_method_id, actor=actor
    )


def cancel_subscription(
    db: Session, scope: Scope, subscription_id: str, *, at_period_end: object, actor: Actor = SYSTEM
) -> Subscription:
    """End it now, or let it run to the end of the period it is paid for."""
    if not isinstance(at_period_end, bool):
        raise ValidationFailed("atPeriodEnd must be true or false", param="atPeriodEnd")
    if at_period_end:
        return update_subscription(
            db, scope, subscription_id, cancel_at_period_end=True, actor=actor
        )
    subscription = get_subscription(db, scope, subscription_id, lock=True)
    if subscription.status in dunning.ENDED:
        raise Conflict(
            f"Subscription {subscription.id} has already ended", code="subscription_ended"
        )
    dunning.end(db, subscription, now_for(db, subscription.test_clock_id), "requested", actor)
    return subscription


# --- the parts ----------------------------------------------------------------------------------


def _parse_items(db: Session, scope: Scope, value: object) -> list[tuple[Price, int]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
        raise ValidationFailed(
            f"items must be a list of 1 to {MAX_ITEMS} {{priceId, quantity}}", param="items"
        )
    wanted: list[tuple[Price, int]] = []
    for index, entry in enumerate(value):
        param = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ValidationFailed(f"{param} must be an object {{priceId, quantity}}", param=param)
        quantity = entry.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValidationFailed(f"{param}.quantity must be a whole number", param=param)
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed(
                f"{param}.quantity must be from 1 to {MAX_QUANTITY:,}", param=f"{param}.quantity"
            )
        price = catalogue.billable_price(db, scope, entry.get("priceId"), recurring=True)
        if any(price.id == seen.id for seen, _ in wanted):
            raise ValidationFailed(
                f"{param}: price {price.id} is listed twice; give it one quantity",
                param=f"{param}.priceId",
            )
        wanted.append((price, quantity))
    return wanted


def _one_plan(wanted: list[tuple[Price, int]]) -> tuple[str, Recurrence]:
    """The currency and interval every item shares (a subscription bills them together)."""
    first = wanted[0][0]
    recurrence = catalogue.recurrence(first)
    assert recurrence is not None  # billable_price(recurring=True)
    for price, _ in wanted[1:]:
        if price.currency != first.currency:
            raise ValidationFailed(
                f"Every item must be in one currency: {price.id} is {price.currency}, "
                f"{first.id} is {first.currency}",
                code="currency_mismatch",
                param="items",
            )
        if catalogue.recurrence(price) != recurrence:
            raise ValidationFailed(
                f"Every item must bill on one interval: {price.id} and {first.id} differ",
                code="interval_mismatch",
                param="items",
            )
    return first.currency, recurrence


def _card(db: Session, scope: Scope, customer_id: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(
            "defaultPaymentMethod must be a saved card's id (pm_...)", param="defaultPaymentMethod"
        )
    _, method = payment_methods.method_for_charge(db, scope, customer_id, value)
    return method.id


def _trial_days(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 730:
        raise ValidationFailed("trialDays must be a whole number from 1 to 730", param="trialDays")
    return value


def _pause(
    db: Session, subscription: Subscription, value: object, now: datetime, actor: Actor
) -> None:
    """Pause collection ({behavior, resumesAt?}) or resume it (None)."""
    if value is None:
        subscription.pause_behavior = subscription.pause_resumes_at = None
        if subscription.status == SubscriptionStatus.PAUSED:
            dunning.set_status(db, subscription, SubscriptionStatus.ACTIVE, actor)
        return
    if subscription.status in (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.TRIALING):
        raise Conflict(
            f"Subscription {subscription.id} is {subscription.status}: only a paying "
            "subscription's collection can be paused",
            code="subscription_not_pausable",
        )
    if not isinstance(value, dict) or value.get("behavior") not in PAUSE_BEHAVIORS:
        raise ValidationFailed(
            f"pauseCollection must be null or {{behavior: {' | '.join(PAUSE_BEHAVIORS)}, "
            "resumesAt?}",
            param="pauseCollection",
        )
    resumes = value.get("resumesAt")
    if resumes is not None:
        from backend.services.billing.clock import frozen_time_from

        resumes = frozen_time_from(resumes, param="pauseCollection.resumesAt")
        if resumes <= now:
            raise ValidationFailed(
                "pauseCollection.resumesAt must be in the future",
                param="pauseCollection.resumesAt",
            )
    subscription.pause_behavior = str(value["behavior"])
    subscription.pause_resumes_at = resumes
    dunning.set_status(db, subscription, SubscriptionStatus.PAUSED, actor)


def _change_items(
    db: Session,
    scope: Scope,
    subscription: Subscription,
    value: object,
    behavior: str,
    now: datetime,
    actor: Actor,
) -> None:
    wanted = _parse_items(db, scope, value)
    currency, recurrence = _one_plan(wanted)
    current = items_of(db, subscription)
    plan = catalogue.recurrence(current[0][1]) if current else recurrence
    if currency != subscription.currency or recurrence != plan:
        raise ValidationFailed(
            f"The subscription bills in {subscription.currency} on one interval: new prices "
            "must too (to change either, cancel and subscribe anew)",
            code="plan_mismatch",
            param="items",
        )
    old = {price.id: (item, price) for item, price in current}
    new = {price.id: (price, quantity) for price, quantity in wanted}
    prorating = behavior != "none" and subscription.status != SubscriptionStatus.TRIALING
    period = Period(subscription.current_period_start, subscription.current_period_end)
    lines: list[LineDraft] = []
    for price_id in list(old) + [p for p in new if p not in old]:
        before = old.get(price_id)
        after = new.get(price_id)
        before_qty = before[0].quantity if before else 0
        after_qty = after[1] if after else 0
        if before_qty == after_qty:
            continue
        price = after[0] if after else before[1]  # type: ignore[index]
        if prorating and period.start < now < period.end:
            lines += _proration_lines(db, price, period, now, before_qty, after_qty)
        if before and after:
            before[0].quantity = after_qty
            db.add(before[0])
        elif before:
            db.delete(before[0])
        else:
            db.add(
                SubscriptionItem(
                    id=new_id("si"),
                    subscription_id=subscription.id,
                    price_id=price_id,
                    quantity=after_qty,
                    created_at=now,
                )
            )
    db.flush()
    for line in lines:
        invoices.pending_line(db, subscription, line, now)
    if behavior == "always_invoice" and lines:
        db.flush()
        invoice = invoices.draft_for(
            db,
            subscription,
            reason=BillingReason.SUBSCRIPTION_UPDATE,
            period=Period(now, period.end),
            at=now,
            lines=[],
            actor=actor,
        )
        invoices.finalize(db, invoice, now, actor=actor)
        if invoice.amount_due > 0 and subscription.status != SubscriptionStatus.PAUSED:
            invoices.attempt(db, invoice, now, actor=actor)


def _proration_lines(
    db: Session, price: Price, period: Period, moment: datetime, before: int, after: int
) -> list[LineDraft]:
    old = Item(price.currency, price.unit_amount, before) if before else None
    new = Item(price.currency, price.unit_amount, after) if after else None
    change = prorate(period, moment, old, new)
    name = _product_name(db, price)
    rest = Period(moment, period.end)
    lines = []
    if change.credit:
        lines.append(
            LineDraft(
                f"Unused time on {before} x {name} after {_date(moment)}",
                -change.credit,
                rest,
                price_id=price.id,
                quantity=before,
                unit_amount=price.unit_amount,
                proration=True,
            )
        )
    if change.charge:
        lines.append(
            LineDraft(
                f"Remaining time on {after} x {name} after {_date(moment)}",
                change.charge,
                rest,
                price_id=price.id,
                quantity=after,
                unit_amount=price.unit_amount,
                proration=True,
            )
        )
    return lines


def _product_name(db: Session, price: Price) -> str:
    product = db.get(Product, price.product_id)
    name = product.name if product else price.id
    return f"{name} ({price.nickname})" if price.nickname else name


def _date(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def end_all_of(db: Session, customer: Customer, *, actor: Actor = SYSTEM) -> None:
    """A customer being deleted: each of its subscriptions that has not ended ends now."""
    for subscription in customer_subscriptions(db, customer.id):
        if subscription.status not in dunning.ENDED:
            at = now_for(db, subscription.test_clock_id)
            dunning.end(db, subscription, at, "customer_deleted", actor)


def customer_subscriptions(db: Session, customer_id: str) -> list[Subscription]:
    """A customer's subscriptions, newest first (the portal's and the customer page's)."""
    query = select(Subscription).where(Subscription.customer_id == customer_id)
    return list(db.exec(query.order_by(col(Subscription.created_at).desc())).all())
