"""The e-mails billing sends a subscriber: a receipt when an invoice is paid, a failed payment
with a link to put in another card, a payment that needs them to authenticate, and a trial about
to end.

Each is recorded in the caller's transaction (the outbox of backend/integrations/email.py) and
sent after that transaction commits, so no database lock is held while SendGrid answers and a
rolled-back change sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, event
from sqlmodel import Session

from backend.core.currency import format_money
from backend.integrations import email as outbox
from backend.models import Merchant
from backend.models.billing import Invoice, Subscription
from backend.services.billing import links

_PENDING = "billing_emails"
_HOOKED = "billing_emails_hooked"


def receipt(db: Session, invoice: Invoice) -> None:
    name = _merchant_name(db, invoice.merchant_id)
    amount = format_money(invoice.amount_paid, invoice.currency)
    _record(
        db,
        invoice.customer_email,
        f"Your receipt from {name} [invoice {invoice.number}]",
        [
            f"Thank you: {name} received your payment of {amount} for invoice {invoice.number}.",
            "",
            f"See the invoice: {links.invoice_url(invoice.id)}",
            f"Download it as a PDF: {links.invoice_pdf_url(invoice.id)}",
        ],
        "billing_receipt",
        invoice.merchant_id,
    )


def payment_failed(
    db: Session,
    invoice: Invoice,
    update_url: str,
    retry_at: datetime | None,
    *,
    canceled: bool = False,
) -> None:
    """`retry_at`: the next retry; None: the last one failed, and the subscription is
    `canceled` or kept unpaid until the invoice is paid."""
    name = _merchant_name(db, invoice.merchant_id)
    amount = format_money(invoice.amount_due - invoice.amount_paid, invoice.currency)
    if retry_at is not None:
        retry = f"We will try again on {retry_at:%B %-d, %Y}."
    elif canceled:
        retry = "We will not try again, and your subscription has ended."
    else:
        retry = "We will not try again: pay the invoice to keep your subscription."
    _record(
        db,
        invoice.customer_email,
        f"Your payment to {name} failed [invoice {invoice.number}]",
        [
            f"We could not charge your card {amount} for invoice {invoice.number} from {name}.",
            retry,
            "",
            f"Update your card or pay now: {update_url}",
        ],
        "billing_payment_failed",
        invoice.merchant_id,
    )


def action_required(db: Session, invoice: Invoice) -> None:
    name = _merchant_name(db, invoice.merchant_id)
    amount = format_money(invoice.amount_due - invoice.amount_paid, invoice.currency)
    _record(
        db,
        invoice.customer_email,
        f"Confirm your payment to {name} [invoice {invoice.number}]",
        [
            f"Your bank asks you to confirm the payment of {amount} for invoice "
            f"{invoice.number} from {name}.",
            "",
            f"Confirm it here: {links.invoice_url(invoice.id)}",
        ],
        "billing_action_required",
        invoice.merchant_id,
    )


def trial_will_end(db: Session, subscription: Subscription, to: str | None) -> None:
    name = _merchant_name(db, subscription.merchant_id)
    ends = subscription.trial_end
    _record(
        db,
        to,
        f"Your {name} trial ends soon",
        [
            f"Your free trial with {name} ends on {ends:%B %-d, %Y}." if ends else "",
            "Your saved card will then be charged for the first period.",
        ],
        "billing_trial_will_end",
        subscription.merchant_id,
    )


def _record(
    db: Session,
    to: str | None,
    subject: str,
    lines: list[str],
    template: str,
    merchant_id: str,
) -> None:
    if not to:
        return  # a customer without an e-mail hears nothing; the merchant's events still tell
    row = outbox.record_email(
        db,
        to=to,
        subject=subject,
        text="\n".join(lines),
        template=template,
        merchant_id=merchant_id,
    )
    if not db.info.get(_HOOKED):
        db.info[_HOOKED] = True
        event.listen(db, "after_commit", _send_pending)
        event.listen(db, "after_rollback", _forget_pending)
    db.info.setdefault(_PENDING, []).append(row.id)


def _send_pending(db: Session) -> None:
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    for email_id in db.info.pop(_PENDING, []):
        outbox.send_recorded(email_id, engine=engine)


def _forget_pending(db: Session) -> None:
    db.info.pop(_PENDING, None)


def _merchant_name(db: Session, merchant_id: str) -> str:
    merchant = db.get(Merchant, merchant_id)
    return merchant.name if merchant else "the merchant"
