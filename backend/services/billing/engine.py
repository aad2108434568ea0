"""The billing engine: every subscription's renewals, trial ends, retries, resumptions and
ends, each at its own due time, read from the subscription's clock.

A subscription's `next_action_at` says when it next needs the engine (backend/services/billing/
dunning.py keeps it). `step` does what fell due at that moment; the engine calls it until the
subscription is nothing left due:
- on the real clock, `run_due` (the periodic job, backend/tasks/billing.py) takes due
  subscriptions one transaction each, locked with SKIP LOCKED on PostgreSQL, so two workers
  running the job at once take different subscriptions; a period's invoice is unique besides
  (`Invoice.period_key`), so no period is ever billed twice;
- on a test clock, `run_clock` (the clock's advance) runs the clock's subscriptions through the
  time it passed, in time order, in the advance's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from backend.core.db import session_scope
from backend.models import Payment
from backend.models.billing import Invoice, Subscription, TestClock
from backend.models.enums import BillingReason, InvoiceStatus, PaymentStatus, SubscriptionStatus
from backend.models.types import utcnow
from backend.services.billing import catalogue, changes, dunning, emails, invoices
from backend.services.billing.periods import Period, next_period_end
from backend.services.billing.subscriptions import items_of, period_lines
from backend.services.context import SYSTEM, Scope
from backend.services.customers import records

log = logging.getLogger(__name__)

# A subscription that keeps being due after this many steps in one run is left for the next
# run (a guard: each step moves next_action_at forward, so it cannot loop).
MAX_STEPS = 2_000
BATCH = 100


def run_clock(db: Session, clock: TestClock, *, previous: datetime) -> None:
    """Everything on `clock` that fell due up to its time, in time order."""
    del previous  # what is due is what next_action_at says, whatever the last advance was
    for _ in range(MAX_STEPS * BATCH):
        query = (
            select(Subscription)
            .where(
                Subscription.test_clock_id == clock.id,
                col(Subscription.next_action_at) <= clock.frozen_time,
            )
            .order_by(col(Subscription.next_action_at), col(Subscription.id))
            .limit(1)
        )
        subscription = db.exec(query).first()
        if subscription is None:
            return
        step(db, subscription, clock.frozen_time)


def run_due(now: datetime | None = None, *, limit: int = 500) -> int:
    """The periodic job: every subscription on the real clock that is due, each in its own
    transaction. Returns how many it ran."""
    now = now or utcnow()
    with session_scope(readonly=True) as db:
        due = db.exec(
            select(Subscription.id)
            .where(
                col(Subscription.test_clock_id).is_(None),
                col(Subscription.next_action_at) <= now,
            )
            .order_by(col(Subscription.next_action_at))
            .limit(limit)
        ).all()
    ran = 0
    for subscription_id in due:
        try:
            with session_scope() as db:
                ran += run_one(db, subscription_id, now)
        except Exception:  # one subscription's failure must not stop the others'
            log.exception("billing: subscription %s failed to run", subscription_id)
    return ran


def settle_completed_payments(*, limit: int = 500) -> int:
    """Open invoices whose payment the customer completed since (3-D Secure finished on the
    invoice's page, or Stripe's webhook said so): paid now. Returns how many."""
    with session_scope(readonly=True) as db:
        found = db.exec(
            select(Invoice.id, Invoice.merchant_id, Invoice.livemode)
            .join(Payment, col(Payment.id) == Invoice.payment_id)
            .where(
                col(Invoice.status).in_(invoices.PAYABLE),
                Payment.status == PaymentStatus.SUCCEEDED,
            )
            .limit(limit)
        ).all()
    for invoice_id, merchant_id, livemode in found:
        with session_scope() as db:
            invoices.refresh_from_payment(db, Scope(merchant_id, livemode), invoice_id)
    return len(found)


def run_one(db: Session, subscription_id: str, now: datetime) -> int:
    """One subscription, locked (skipped if another worker holds it), run until not due."""
    subscription = db.exec(
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .with_for_update(skip_locked=True)
    ).first()
    if subscription is None:
        return 0
    steps = 0
    while (
        subscription.next_action_at is not None
        and subscription.next_action_at <= now
        and steps < MAX_STEPS
    ):
        step(db, subscription, now)
        steps += 1
    return 1 if steps else 0


def step(db: Session, subscription: Subscription, now: datetime) -> None:
    """What fell due at the subscription's next_action_at (<= now)."""
    at = subscription.next_action_at
    if at is None or at > now:
        return
    if subscription.status == SubscriptionStatus.INCOMPLETE:
        if at >= subscription.current_period_start + dunning.INCOMPLETE_WINDOW:
            dunning.expire_incomplete(db, subscription, at, SYSTEM)
        else:
            dunning.reschedule(db, subscription)
        return
    for invoice in dunning.open_invoices(db, subscription):
        if invoice.next_payment_attempt is not None and invoice.next_payment_attempt <= at:
            if invoice.status == InvoiceStatus.OPEN:
                invoices.attempt(db, invoice, at)
            if subscription.status in dunning.ENDED:
                return
    notice = dunning.trial_notice_due(subscription)
    if notice is not None and notice <= at:
        subscription.trial_will_end_sent = True
        changes.subscription_changed(
            db, SYSTEM, "customer.subscription.trial_will_end", subscription
        )
        customer = records.get_customer(
            db, Scope(subscription.merchant_id, subscription.livemode), subscription.customer_id
        )
        emails.trial_will_end(db, subscription, customer.email)
    if subscription.pause_resumes_at is not None and subscription.pause_resumes_at <= at:
        subscription.pause_behavior = subscription.pause_resumes_at = None
        dunning.set_status(db, subscription, SubscriptionStatus.ACTIVE, SYSTEM)
    if subscription.current_period_end <= at:
        _period_ends(db, subscription)
    dunning.reschedule(db, subscription)


def _period_ends(db: Session, subscription: Subscription) -> None:
    """The period is over: the subscription ends (canceled at period end) or renews."""
    ended = subscription.current_period_end
    if subscription.cancel_at_period_end:
        dunning.end(db, subscription, ended, "requested", SYSTEM)
        return
    items = items_of(db, subscription)
    recurrence = catalogue.recurrence(items[0][1])
    assert recurrence is not None
    period = Period(ended, next_period_end(subscription.billing_cycle_anchor, ended, recurrence))
    reason = BillingReason.SUBSCRIPTION_CYCLE
    subscription.current_period_start, subscription.current_period_end = period.start, period.end
    subscription.updated_at = ended
    if subscription.status == SubscriptionStatus.TRIALING:
        dunning.set_status(db, subscription, SubscriptionStatus.ACTIVE, SYSTEM)
    else:
        changes.subscription_changed(db, SYSTEM, "customer.subscription.updated", subscription)
    invoice = invoices.draft_for(
        db,
        subscription,
        reason=reason,
        period=period,
        at=ended,
        lines=period_lines(db, subscription, period),
    )
    behavior = subscription.pause_behavior
    if behavior == "keep_as_draft":
        return
    if behavior == "void":
        invoices.void(db, invoice, ended)
        return
    invoices.finalize(db, invoice, ended)
    if invoice.status != InvoiceStatus.OPEN:
        return  # nothing owed: paid at once
    if behavior == "mark_uncollectible":
        invoices.uncollectible(db, invoice, ended)
    elif subscription.status != SubscriptionStatus.UNPAID:
        invoices.attempt(db, invoice, ended)


def delete_clock_objects(db: Session, clock: TestClock) -> None:
    """A deleted test clock takes its objects with it (as Stripe's): its customers are deleted,
    and their subscriptions end with them."""
    scope = Scope(clock.merchant_id, clock.livemode)
    for customer in records.customers_on_clock(db, scope, clock.id):
        records.delete_customer(db, scope, customer.id)
