"""What an invoice's outcome does to its subscription: dunning after a failed renewal, recovery
after a payment, and the subscription's next moment of interest to the engine.

A renewal that fails moves the subscription to `past_due` and is retried on the merchant's
schedule (by default 3, 5 and 7 days after the first failure), each failure e-mailing the
customer a link to put in another card. When the last retry fails, the subscription is canceled
(its invoice marked uncollectible) or, if the merchant chose so, left `unpaid` (its invoice open,
payable from its page, nothing retried, later renewals invoiced but not charged). Paying the
invoice, at any point, brings the subscription back to `active`.

A subscription's first invoice is not dunned: if it is not paid the subscription stays
`incomplete`, and expires 23 hours later (Stripe's rule) unless the customer pays it meanwhile.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.models.billing import Invoice, Subscription
from backend.models.enums import DunningEnd, InvoiceStatus, SubscriptionStatus
from backend.services.billing import changes, emails, links
from backend.services.billing.settings import billing_settings
from backend.services.context import Actor, Scope

INCOMPLETE_WINDOW = timedelta(hours=23)
TRIAL_NOTICE = timedelta(days=3)
ENDED = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)
_OPEN = (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE)


def failed(db: Session, invoice: Invoice, at: datetime, actor: Actor, *, email: bool) -> None:
    """An attempt to pay `invoice` failed at `at`: the next retry, or the end of dunning."""
    subscription = _subscription(db, invoice)
    if subscription is None or subscription.status in ENDED:
        db.add(invoice)
        return
    if subscription.status == SubscriptionStatus.INCOMPLETE:
        invoice.next_payment_attempt = None  # the customer pays it, or it expires
        db.add(invoice)
        reschedule(db, subscription)
        return
    settings = billing_settings(db, invoice.merchant_id)
    if invoice.first_failed_at is None:
        invoice.first_failed_at = at
    retries = [invoice.first_failed_at + timedelta(days=day) for day in settings.retry_days]
    invoice.next_payment_attempt = next((moment for moment in retries if moment > at), None)
    db.add(invoice)
    if invoice.next_payment_attempt is not None:
        if email:
            emails.payment_failed(
                db, invoice, _card_link(db, invoice), invoice.next_payment_attempt
            )
        set_status(db, subscription, SubscriptionStatus.PAST_DUE, actor)
        reschedule(db, subscription)
        return
    # The schedule ran out.
    if email:
        canceling = settings.dunning_end != DunningEnd.UNPAID
        emails.payment_failed(db, invoice, _card_link(db, invoice), None, canceled=canceling)
    if settings.dunning_end == DunningEnd.UNPAID:
        set_status(db, subscription, SubscriptionStatus.UNPAID, actor)
        reschedule(db, subscription)
        return
    from backend.services.billing import invoices  # invoices calls dunning; this is the reverse

    invoices.uncollectible(db, invoice, at, actor=actor)
    end(db, subscription, at, "payment_failed", actor)


def _card_link(db: Session, invoice: Invoice) -> str:
    """The customer's billing portal, where they put in another card and pay (a link that
    lasts through the retries); the invoice's own page for a customer without an e-mail, whom
    no e-mail reaches anyway."""
    from backend.services.billing import portal_sessions

    if not invoice.customer_email:
        return links.invoice_url(invoice.id)
    scope = Scope(invoice.merchant_id, invoice.livemode)
    _, url = portal_sessions.create_session(
        db, scope, invoice.customer_id, lifetime=portal_sessions.EMAILED_TTL
    )
    return url


def settled(db: Session, invoice: Invoice, at: datetime, actor: Actor) -> None:
    """`invoice` was paid, voided or written off: its subscription no longer waits on it."""
    subscription = _subscription(db, invoice)
    if subscription is None or subscription.status in ENDED:
        return
    waiting = [
        other
        for other in open_invoices(db, subscription)
        if other.id != invoice.id and other.status == InvoiceStatus.OPEN and other.attempt_count
    ]
    if invoice.status == InvoiceStatus.PAID and not waiting:
        if subscription.status in (
            SubscriptionStatus.PAST_DUE,
            SubscriptionStatus.UNPAID,
            SubscriptionStatus.INCOMPLETE,
        ):
            set_status(db, subscription, SubscriptionStatus.ACTIVE, actor)
    elif not waiting and subscription.status == SubscriptionStatus.PAST_DUE:
        set_status(db, subscription, SubscriptionStatus.ACTIVE, actor)
    reschedule(db, subscription)


def end(db: Session, subscription: Subscription, at: datetime, reason: str, actor: Actor) -> None:
    """The subscription ends now: nothing renews, nothing is retried."""
    subscription.status = SubscriptionStatus.CANCELED
    subscription.canceled_at = subscription.canceled_at or at
    subscription.ended_at = subscription.updated_at = at
    subscription.cancellation_reason = reason
    subscription.cancel_at_period_end = False
    for invoice in open_invoices(db, subscription):
        invoice.next_payment_attempt = None
        db.add(invoice)
    subscription.next_action_at = None
    changes.subscription_changed(db, actor, "customer.subscription.deleted", subscription)


def expire_incomplete(db: Session, subscription: Subscription, at: datetime, actor: Actor) -> None:
    """The first invoice was not paid within the window: the subscription never started."""
    from backend.services.billing import invoices

    for invoice in open_invoices(db, subscription):
        invoices.void(db, invoice, at, actor=actor)
    subscription.status = SubscriptionStatus.INCOMPLETE_EXPIRED
    subscription.ended_at = subscription.updated_at = at
    subscription.next_action_at = None
    changes.subscription_changed(db, actor, "customer.subscription.updated", subscription)


def trial_notice_due(subscription: Subscription) -> datetime | None:
    """When the customer hears their trial ends soon (three days before, or at once if the
    trial is shorter), or None."""
    if subscription.status != SubscriptionStatus.TRIALING or subscription.trial_will_end_sent:
        return None
    if subscription.trial_end is None or subscription.trial_start is None:
        return None
    return max(subscription.trial_end - TRIAL_NOTICE, subscription.trial_start)


def reschedule(db: Session, subscription: Subscription) -> None:
    """The next moment the engine must look at the subscription (None: never again)."""
    if subscription.status in ENDED:
        subscription.next_action_at = None
        db.add(subscription)
        return
    if subscription.status == SubscriptionStatus.INCOMPLETE:
        moments = [subscription.current_period_start + INCOMPLETE_WINDOW]
    else:
        moments = [subscription.current_period_end]
    notice = trial_notice_due(subscription)
    if notice is not None:
        moments.append(notice)
    if subscription.pause_behavior and subscription.pause_resumes_at:
        moments.append(subscription.pause_resumes_at)
    moments += [
        invoice.next_payment_attempt
        for invoice in open_invoices(db, subscription)
        if invoice.next_payment_attempt is not None
    ]
    subscription.next_action_at = min(moments)
    db.add(subscription)


def set_status(db: Session, subscription: Subscription, status: str, actor: Actor) -> None:
    if subscription.status == status:
        return
    previous = subscription.status
    subscription.status = status
    changes.subscription_changed(
        db, actor, "customer.subscription.updated", subscription, {"from": previous, "to": status}
    )


def _subscription(db: Session, invoice: Invoice) -> Subscription | None:
    if invoice.subscription_id is None:
        return None
    return db.get(Subscription, invoice.subscription_id)


def open_invoices(db: Session, subscription: Subscription) -> list[Invoice]:
    query = select(Invoice).where(
        Invoice.subscription_id == subscription.id, col(Invoice.status).in_(_OPEN)
    )
    return list(db.exec(query.order_by(col(Invoice.created_at), col(Invoice.id))).all())
