"""Invoices: draft -> open -> paid | uncollectible | void.

A draft gathers its lines (a subscription's items for the period, and whatever was pending on
the subscription: prorations billed "on the next invoice", credit carried forward). Finalizing
gives it the merchant's next number (gapless, under a row lock) and opens it; an invoice owing
nothing is paid at once. Paying charges a saved card through `charges.charge_saved_method`, the
same booking path as every charge (fees, ledger, audit, payment events); a decline is not an
exception but a failed attempt the invoice records and dunning schedules again
(backend/services/billing/dunning.py).

Each attempt has its own idempotency key (`{invoice}-attempt-{n}`), so a crash after the charge
replays the same payment instead of charging twice; an attempt whose outcome is unknown (the
processor did not answer) keeps its number and is retried with the same key.

Totals are integers in the currency's minor unit, tax-free: subtotal = total = the lines' sum;
amount_due = max(total, 0). A negative total (credits exceed charges) is owed back on the next
invoice: a pending "credit carried forward" line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.core.errors import Conflict, NotFound, ServiceError
from backend.core.ids import new_id
from backend.models import Customer, Payment
from backend.models.billing import Invoice, InvoiceLine, InvoiceSequence, Subscription
from backend.models.enums import BillingReason, InvoiceStatus, PaymentStatus
from backend.models.types import utcnow
from backend.services.billing import changes, dunning, emails
from backend.services.billing.clock import now_for
from backend.services.billing.periods import Period
from backend.services.billing.settings import billing_settings
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.paging import keyset_page
from backend.services.payments import authentication, charges
from backend.services.payments.charges import PaymentOutcome
from backend.services.payments.orders import owned

# A processor that did not answer: the same attempt (and key) again after this long.
UNKNOWN_OUTCOME_RETRY = timedelta(hours=1)
PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE)
_NOT_REACHED = ("gateway_unavailable", "gateway_outcome_unknown")


@dataclass(frozen=True)
class LineDraft:
    description: str
    amount: int
    period: Period
    price_id: str | None = None
    quantity: int | None = None
    unit_amount: int | None = None
    proration: bool = False


@dataclass(frozen=True)
class PayAttempt:
    """What paying an invoice did: `outcome` is the charge's (None when nothing was charged:
    nothing owed, or no card to charge)."""

    invoice: Invoice
    outcome: PaymentOutcome | None

    @property
    def paid(self) -> bool:
        return self.invoice.status == InvoiceStatus.PAID


# --- reading ------------------------------------------------------------------------------------


def get_invoice(db: Session, scope: Scope, invoice_id: str, *, lock: bool = False) -> Invoice:
    return owned(db, Invoice, scope, invoice_id, param="invoiceId", lock=lock)


def list_invoices(
    db: Session,
    scope: Scope,
    *,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Invoice], str | None]:
    query = select(Invoice).where(
        Invoice.merchant_id == scope.merchant_id, Invoice.livemode == scope.livemode
    )
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    if subscription_id is not None:
        query = query.where(Invoice.subscription_id == subscription_id)
    if status is not None:
        query = query.where(Invoice.status == status)
    return keyset_page(db, scope, Invoice, query, limit, cursor)


lines_of = changes.lines_of


# --- making -------------------------------------------------------------------------------------


def draft_for(
    db: Session,
    subscription: Subscription,
    *,
    reason: BillingReason,
    period: Period,
    at: datetime,
    lines: list[LineDraft],
    actor: Actor = SYSTEM,
) -> Invoice:
    """A draft invoice of the subscription for `period`, with `lines` and the subscription's
    pending lines. At most one per subscription, reason and period start (`period_key`): a
    second worker renewing the same period meets the unique key and changes nothing."""
    customer = db.get(Customer, subscription.customer_id)
    invoice = Invoice(
        id=new_id("in"),
        merchant_id=subscription.merchant_id,
        livemode=subscription.livemode,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        test_clock_id=subscription.test_clock_id,
        billing_reason=reason,
        period_key=f"{subscription.id}:{reason}:{int(period.start.timestamp())}",
        currency=subscription.currency,
        period_start=period.start,
        period_end=period.end,
        customer_email=customer.email if customer else None,
        customer_name=customer.name if customer else None,
        created_at=at,
        updated_at=at,
    )
    try:
        with db.begin_nested():
            db.add(invoice)
    except IntegrityError as exc:
        raise Conflict(
            f"Subscription {subscription.id} already has its {reason} invoice for the period "
            f"starting {period.start.isoformat()}",
            code="invoice_exists",
        ) from exc
    for line in lines:
        db.add(
            InvoiceLine(
                id=new_id("il"),
                merchant_id=invoice.merchant_id,
                livemode=invoice.livemode,
                invoice_id=invoice.id,
                subscription_id=subscription.id,
                price_id=line.price_id,
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.amount,
                currency=invoice.currency,
                proration=line.proration,
                period_start=line.period.start,
                period_end=line.period.end,
                created_at=at,
            )
        )
    pending = select(InvoiceLine).where(
        InvoiceLine.subscription_id == subscription.id, col(InvoiceLine.invoice_id).is_(None)
    )
    for line in db.exec(pending).all():
        line.invoice_id = invoice.id
        db.add(line)
    db.flush()
    _total(db, invoice)
    subscription.latest_invoice_id = invoice.id
    db.add(subscription)
    changes.invoice_changed(db, actor, "invoice.created", invoice)
    return invoice


def pending_line(db: Session, subscription: Subscription, line: LineDraft, at: datetime) -> None:
    """A line for the subscription's next invoice."""
    db.add(
        InvoiceLine(
            id=new_id("il"),
            merchant_id=subscription.merchant_id,
            livemode=subscription.livemode,
            subscription_id=subscription.id,
            price_id=line.price_id,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=line.amount,
            currency=subscription.currency,
            proration=line.proration,
            period_start=line.period.start,
            period_end=line.period.end,
            created_at=at,
        )
    )


def finalize(db: Session, invoice: Invoice, at: datetime, *, actor: Actor = SYSTEM) -> Invoice:
    """Open a draft: its number, and the credit it leaves carried forward; paid at once when it
    owes nothing."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(
            f"Invoice {invoice.id} is {invoice.status}: only a draft is finalized",
            code="invoice_not_draft",
        )
    invoice.number = _next_number(db, invoice)
    invoice.status = InvoiceStatus.OPEN
    invoice.finalized_at = invoice.updated_at = at
    if invoice.total < 0 and invoice.subscription_id:
        subscription = db.get(Subscription, invoice.subscription_id)
        if subscription is not None:
            credit = LineDraft(
                f"Credit carried forward from invoice {invoice.number}",
                invoice.total,
                Period(invoice.period_start, invoice.period_end),
            )
            pending_line(db, subscription, credit, at)
    changes.invoice_changed(db, actor, "invoice.finalized", invoice)
    if invoice.amount_due == 0:
        _paid(db, invoice, at, None, actor)
    return invoice


# --- paying -------------------------------------------------------------------------------------


def pay_invoice(
    db: Session,
    scope: Scope,
    invoice_id: str,
    *,
    payment_method_id: str | None = None,
    off_session: bool = True,
    actor: Actor = SYSTEM,
) -> PayAttempt:
    """Charge what the invoice owes now (the merchant's "retry", or the customer on the hosted
    page or the portal with `off_session=False`), a draft being finalized first. The card is
    `payment_method_id`, else the subscription's, else the customer's default."""
    invoice = get_invoice(db, scope, invoice_id, lock=True)
    at = now_for(db, invoice.test_clock_id)
    if invoice.status == InvoiceStatus.DRAFT:
        finalize(db, invoice, at, actor=actor)
        if invoice.status == InvoiceStatus.PAID:
            return PayAttempt(invoice, None)
    if invoice.status not in PAYABLE:
        raise Conflict(
            f"Invoice {invoice.id} is {invoice.status}: only an open or uncollectible invoice "
            "can be paid",
            code="invoice_not_payable",
        )
    pending = _payment_awaiting_customer(db, invoice)
    if pending is not None and payment_method_id is None:
        raise Conflict(
            f"Invoice {invoice.id} has a payment waiting for the customer to authenticate: "
            "they finish it on the invoice's page",
            code="invoice_payment_pending",
        )
    return attempt(
        db, invoice, at, payment_method_id=payment_method_id, off_session=off_session, actor=actor
    )


def attempt(
    db: Session,
    invoice: Invoice,
    at: datetime,
    *,
    payment_method_id: str | None = None,
    off_session: bool = True,
    actor: Actor = SYSTEM,
) -> PayAttempt:
    """One attempt to charge an open invoice, its outcome recorded (and handed to dunning)."""
    scope = Scope(invoice.merchant_id, invoice.livemode)
    subscription = (
        db.get(Subscription, invoice.subscription_id) if invoice.subscription_id else None
    )
    invoice.attempt_count += 1
    key = f"{invoice.id}-attempt-{invoice.attempt_count}"
    try:
        outcome = charges.charge_saved_method(
            db,
            scope,
            invoice.customer_id,
            payment_method_id or _subscription_card(db, scope, invoice, subscription),
            invoice.amount_due - invoice.amount_paid,
            invoice.currency,
            key,
            description=f"Invoice {invoice.number}",
            metadata={"invoice": invoice.id, "subscription": invoice.subscription_id or ""},
            off_session=off_session,
            actor=actor,
        )
    except Conflict:  # a key reused or an illegal move: not the card's failure
        raise
    except ServiceError as exc:  # no card to charge (NotFound too): a failed attempt all the same
        _failed(db, invoice, at, exc.code, exc.message, None, actor)
        return PayAttempt(invoice, None)
    invoice.payment_id = outcome.payment.id
    if outcome.ok and outcome.payment.status == PaymentStatus.REQUIRES_ACTION:
        # On session, the bank asks the customer (who is there) for 3-D Secure: nothing is
        # paid yet and nothing failed. The page finishes it (payments.authentication), then
        # refresh_from_payment marks the invoice paid.
        db.add(invoice)
    elif outcome.ok:
        _paid(db, invoice, at, outcome.payment, actor)
    elif outcome.error_code in _NOT_REACHED:
        # Nothing known to be charged: the same attempt, with the same key, a little later.
        invoice.attempt_count -= 1
        invoice.next_payment_attempt = at + UNKNOWN_OUTCOME_RETRY
        db.add(invoice)
        if subscription is not None:
            dunning.reschedule(db, subscription)
    else:
        _failed(
            db,
            invoice,
            at,
            outcome.payment.failure_code or outcome.error_code or "card_declined",
            outcome.error_message or "The card was declined",
            outcome,
            actor,
        )
    return PayAttempt(invoice, outcome)


def finish_authentication(
    db: Session, scope: Scope, invoice_id: str, *, approved: bool | None, actor: Actor = SYSTEM
) -> authentication.Finished | None:
    """The customer finished (or failed) the 3-D Secure challenge of the invoice's payment on
    its hosted page: booked through the payment's path, and the invoice paid when it passed.
    None when no payment of the invoice waits for the customer."""
    invoice = get_invoice(db, scope, invoice_id, lock=True)
    payment = _payment_awaiting_customer(db, invoice)
    if payment is None or invoice.status not in PAYABLE:
        return None
    finished = authentication.finish(db, payment, approved, actor)
    if finished.outcome == authentication.CAPTURED:
        _paid(db, invoice, now_for(db, invoice.test_clock_id), payment, actor)
    return finished


def settle_with(
    db: Session, invoice: Invoice, payment: Payment, at: datetime, *, actor: Actor = SYSTEM
) -> None:
    """Pay an open invoice with a payment already taken through the charge path for it (the
    checkout of a subscription's payment link): no second charge. Refused unless the payment
    is the invoice customer's, succeeded, and exactly its amount and currency."""
    owed = invoice.amount_due - invoice.amount_paid
    fits = (
        payment.status == PaymentStatus.SUCCEEDED
        and payment.merchant_id == invoice.merchant_id
        and payment.livemode == invoice.livemode
        and payment.customer_id == invoice.customer_id
        and payment.currency == invoice.currency
        and payment.amount_captured == owed
    )
    if invoice.status not in PAYABLE or not fits:
        raise Conflict(
            f"Payment {payment.id} cannot pay invoice {invoice.id}: it must be the customer's "
            f"succeeded payment of exactly {owed} {invoice.currency}",
            code="payment_does_not_match",
        )
    _paid(db, invoice, at, payment, actor)


def refresh_from_payment(
    db: Session, scope: Scope, invoice_id: str, *, actor: Actor = SYSTEM
) -> Invoice:
    """After the customer finished authenticating the invoice's payment (on the hosted page, or
    Stripe told us by webhook): an invoice whose payment succeeded is paid."""
    invoice = get_invoice(db, scope, invoice_id, lock=True)
    if invoice.status in PAYABLE and invoice.payment_id:
        payment = db.get(Payment, invoice.payment_id)
        if payment is not None and payment.status == PaymentStatus.SUCCEEDED:
            _paid(db, invoice, now_for(db, invoice.test_clock_id), payment, actor)
    return invoice


def void_invoice(db: Session, scope: Scope, invoice_id: str, *, actor: Actor = SYSTEM) -> Invoice:
    """Cancel what the invoice asked for (a mistake, a subscription given up). A paid invoice is
    refunded instead, never voided."""
    invoice = get_invoice(db, scope, invoice_id, lock=True)
    if invoice.status not in (InvoiceStatus.DRAFT, *PAYABLE):
        raise Conflict(
            f"Invoice {invoice.id} is {invoice.status}: only a draft, open or uncollectible "
            "invoice can be voided",
            code="invoice_not_voidable",
        )
    at = now_for(db, invoice.test_clock_id)
    void(db, invoice, at, actor=actor)
    return invoice


def void(db: Session, invoice: Invoice, at: datetime, *, actor: Actor = SYSTEM) -> None:
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = invoice.updated_at = at
    invoice.next_payment_attempt = None
    changes.invoice_changed(db, actor, "invoice.voided", invoice)
    dunning.settled(db, invoice, at, actor)


def mark_uncollectible(
    db: Session, scope: Scope, invoice_id: str, *, actor: Actor = SYSTEM
) -> Invoice:
    """Give up collecting it (written off); it may still be paid later."""
    invoice = get_invoice(db, scope, invoice_id, lock=True)
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(
            f"Invoice {invoice.id} is {invoice.status}: only an open invoice can be marked "
            "uncollectible",
            code="invoice_not_open",
        )
    uncollectible(db, invoice, now_for(db, invoice.test_clock_id), actor=actor)
    return invoice


def uncollectible(db: Session, invoice: Invoice, at: datetime, *, actor: Actor = SYSTEM) -> None:
    invoice.status = InvoiceStatus.UNCOLLECTIBLE
    invoice.marked_uncollectible_at = invoice.updated_at = at
    invoice.next_payment_attempt = None
    changes.invoice_changed(db, actor, "invoice.marked_uncollectible", invoice)
    dunning.settled(db, invoice, at, actor)


# --- the parts ----------------------------------------------------------------------------------


def _total(db: Session, invoice: Invoice) -> None:
    total = sum(line.amount for line in lines_of(db, invoice))
    invoice.subtotal = invoice.total = total
    invoice.amount_due = max(total, 0)
    db.add(invoice)


def _next_number(db: Session, invoice: Invoice) -> str:
    """The merchant's next invoice number in the invoice's mode, taken under a row lock."""
    prefix = billing_settings(db, invoice.merchant_id).invoice_prefix
    key = (invoice.merchant_id, invoice.livemode)
    query = (
        select(InvoiceSequence)
        .where(InvoiceSequence.merchant_id == key[0], InvoiceSequence.livemode == key[1])
        .with_for_update()
    )
    sequence = db.exec(query).first()
    if sequence is None:
        try:
            with db.begin_nested():
                db.add(InvoiceSequence(merchant_id=key[0], livemode=key[1]))
        except IntegrityError:
            pass  # another transaction made it first: lock theirs
        sequence = db.exec(query).one()
    number = sequence.next_number
    sequence.next_number += 1
    db.add(sequence)
    suffix = "" if invoice.livemode else "-TEST"
    return f"{prefix}{suffix}-{number:04d}"


def _subscription_card(
    db: Session, scope: Scope, invoice: Invoice, subscription: Subscription | None
) -> str | None:
    """The subscription's card while it is still attached, else None (the customer's default)."""
    from backend.services.customers import payment_methods

    chosen = subscription.default_payment_method_id if subscription else None
    if chosen is None:
        return None
    try:
        payment_methods.method_for_charge(db, scope, invoice.customer_id, chosen)
    except NotFound:
        return None
    return chosen


def _payment_awaiting_customer(db: Session, invoice: Invoice) -> Payment | None:
    if invoice.payment_id is None:
        return None
    payment = db.get(Payment, invoice.payment_id)
    if payment is not None and payment.status == PaymentStatus.REQUIRES_ACTION:
        return payment
    return None


def _paid(
    db: Session, invoice: Invoice, at: datetime, payment: Payment | None, actor: Actor
) -> None:
    invoice.amount_paid = invoice.amount_due
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = invoice.updated_at = at
    invoice.next_payment_attempt = None
    invoice.last_failure_code = invoice.last_failure_message = None
    if payment is not None:
        invoice.payment_id = payment.id
    changes.invoice_changed(db, actor, "invoice.paid", invoice)
    if invoice.amount_paid > 0:
        emails.receipt(db, invoice)
    dunning.settled(db, invoice, at, actor)


def _failed(
    db: Session,
    invoice: Invoice,
    at: datetime,
    code: str,
    message: str,
    outcome: PaymentOutcome | None,
    actor: Actor,
) -> None:
    invoice.last_failure_code = code[:64]
    invoice.last_failure_message = message[:300]
    invoice.updated_at = utcnow() if at is None else at
    needs_customer = outcome is not None and outcome.error_code == "authentication_required"
    if needs_customer:
        changes.invoice_changed(db, actor, "invoice.payment_action_required", invoice)
        emails.action_required(db, invoice)
    else:
        changes.invoice_changed(db, actor, "invoice.payment_failed", invoice)
    dunning.failed(db, invoice, at, actor, email=not needs_customer)
