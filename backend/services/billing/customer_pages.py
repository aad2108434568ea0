"""What the customer's billing pages do: the billing portal (/billing/{secret}) and the hosted
invoice page (/invoice/{token}).

The link is the customer's capability: nothing here needs a signed-in member. Each function
opens its own unit of work, calls billing's services (subscriptions, invoices), the customers'
saved cards and the payments' 3-D Secure finishing, and answers with plain values in words
(statuses, amounts, dates) for the pages to copy into their state: a page never sees a model
or a code such as "past_due".

Card testing: adding or paying with a card counts the address's declines with the hosted
checkout's guard (backend.services.checkout.card_testing): an address with too many recent
declines is refused before anything reaches a processor.

Money moves only through `invoices.pay_invoice` (the charge path and the one booking path); a
payment that needs the customer's authentication is finished by `payments.authentication`
and the invoice then learns it is paid through `invoices.refresh_from_payment`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_date
from sqlmodel import Session

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from backend.models import Customer, Invoice, Merchant, Payment, PaymentMethod, Product
from backend.models.enums import ActorType, InvoiceStatus, PaymentStatus, SubscriptionStatus
from backend.services import labels
from backend.services.billing import (
    changes,
    customer_words,
    hosted_invoices,
    invoices,
    links,
    portal_sessions,
    subscriptions,
)
from backend.services.billing.settings import billing_settings
from backend.services.checkout import branding, stripe_element
from backend.services.checkout import card_testing as address_guard
from backend.services.context import Actor, Scope
from backend.services.customers import payment_methods
from backend.services.payments import authentication

# What the customer's own actions are recorded as (audit rows, events).
PORTAL = Actor(ActorType.SYSTEM, "billing_portal")
HOSTED_INVOICE = Actor(ActorType.SYSTEM, "hosted_invoice")
LIVE = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.PAUSED,
)
MAX_LISTED = 50
TIMES, DASH = "\u00d7", " \u2013 "

# What a failed attempt tells the customer, whatever the processor said.
DECLINE_WORDS = {
    "insufficient_funds": "Your card has insufficient funds. Try another card.",
    "expired_card": "Your card has expired. Try another card.",
    "incorrect_cvc": "The security code is incorrect. Check it and try again.",
    "authentication_failed": (
        "The bank could not confirm it was you. Try again or use another card."
    ),
    "not_a_test_card": "This is test mode: use one of the test cards.",
    "unavailable": "We could not reach the payment processor. Nothing was charged; try again.",
    "throttled": "Too many declined cards from your address. Wait a few minutes and try again.",
}
DECLINED_WORDS = "Your card was declined. Try another card."
GONE = "This is no longer available. Reload the page to see your billing as it is now."


@dataclass(frozen=True)
class Brand:
    """How the merchant shows itself, as on its hosted checkout."""

    name: str
    logo_url: str
    brand_color: str
    button_text_color: str


@dataclass(frozen=True)
class SubscriptionRow:
    id: str
    plan: str
    amount: str  # "$15.00 per month"
    status: str  # in words
    when: str  # "Renews on 1 Mar 2026", "Ends on …", "Free trial ends on …"
    can_cancel: bool
    overdue: bool
    card: str = ""  # "Paid with Visa •••• 4242"


@dataclass(frozen=True)
class CardRow:
    id: str
    label: str  # "Visa •••• 4242"
    expires: str  # "Expires 12/2030"
    default: bool


@dataclass(frozen=True)
class InvoiceRow:
    id: str
    number: str
    status: str  # in words
    amount: str
    date: str
    hosted_url: str
    pdf_url: str
    payable: bool


@dataclass(frozen=True)
class PortalView:
    brand: Brand
    customer: str  # the name, else the e-mail
    email: str
    return_url: str
    test_mode: bool
    # The page takes a new card (the sandbox form); with Stripe it does not yet (its Payment
    # Element is the checkout's only), and says so.
    card_entry: bool = True
    subscriptions: list[SubscriptionRow] = field(default_factory=list)
    cards: list[CardRow] = field(default_factory=list)
    invoices: list[InvoiceRow] = field(default_factory=list)


@dataclass(frozen=True)
class LineRow:
    description: str
    period: str
    quantity: str
    amount: str
    credit: bool


@dataclass(frozen=True)
class InvoiceView:
    brand: Brand
    number: str
    status: str  # in words
    paid: bool
    payable: bool
    needs_action: bool  # a payment waits for the customer's 3-D Secure
    test_mode: bool
    date: str
    period: str
    billed_to: str
    lines: list[LineRow]
    total: str
    amount_paid: str
    amount_due: str
    pdf_url: str
    paid_with: str = ""
    card_entry: bool = True


@dataclass(frozen=True)
class Outcome:
    """What an action did: `ok`, or `message` (in words) saying why not; `needs_action` when
    the bank asks the customer to authenticate (the page shows the challenge)."""

    ok: bool
    message: str = ""
    needs_action: bool = False


# -- the words --------------------------------------------------------------------------------


def _brand(merchant: Merchant) -> Brand:
    colors = branding.button_colors(merchant.brand_color)
    return Brand(merchant.name, merchant.logo_path or "", colors.background, colors.text)


def _day(moment: datetime | None, locale: str) -> str:
    return format_date(moment, "medium", locale=locale) if moment else ""


def _span(start: datetime, end: datetime, locale: str) -> str:
    return f"{_day(start, locale)}{DASH}{_day(end, locale)}"


def _money(amount: int, currency: str, locale: str) -> str:
    return format_money(amount, currency, locale)


def _merchant(db: Session, merchant_id: str) -> Merchant:
    merchant = db.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant


def _subscription_row(  # type: ignore[no-untyped-def]
    db: Session, sub, locale: str, can_cancel: bool, customer_default: str | None
) -> SubscriptionRow:
    items = changes.items_of(db, sub)
    names, total = [], 0
    interval, count = None, None
    for item, price in items:
        product = db.get(Product, price.product_id)
        name = product.name if product else (price.nickname or "Plan")
        names.append(f"{name} {TIMES} {item.quantity}" if item.quantity > 1 else name)
        total += price.unit_amount * item.quantity
        interval, count = price.recurring_interval, price.recurring_interval_count
    amount = _money(total, sub.currency, locale)
    if interval:
        amount = f"{amount} per {customer_words.every(interval, count)}"
    status = customer_words.subscription_status(sub.status)
    end = _day(sub.current_period_end, locale)
    if sub.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED):
        when = f"Ended on {_day(sub.ended_at or sub.canceled_at, locale)}"
    elif sub.cancel_at_period_end:
        when = f"Canceled: ends on {end}, nothing more is charged"
    elif sub.status == SubscriptionStatus.TRIALING:
        when = f"Free trial ends on {_day(sub.trial_end, locale)}"
    elif sub.status == SubscriptionStatus.PAUSED:
        when = "Payments paused"
    elif sub.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
        when = f"Pay the invoice that is due to keep it. Next renewal on {end}"
    elif sub.status == SubscriptionStatus.INCOMPLETE:
        when = "Waiting for the first payment"
    else:
        when = f"Renews on {end}"
    card = ""
    if sub.status in LIVE:
        method_id = sub.default_payment_method_id or customer_default
        method = db.get(PaymentMethod, method_id) if method_id else None
        if method is not None and method.detached_at is None:
            card = f"Paid with {labels.card(method.brand, method.last4)}"
    return SubscriptionRow(
        id=sub.id,
        plan=", ".join(names) or "Subscription",
        amount=amount,
        status=status,
        when=when,
        can_cancel=can_cancel and sub.status in LIVE and not sub.cancel_at_period_end,
        overdue=sub.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID),
        card=card,
    )


def _card_row(method, default_id: str | None) -> CardRow:  # type: ignore[no-untyped-def]
    expires = ""
    if method.exp_month and method.exp_year:
        expires = f"Expires {method.exp_month:02d}/{method.exp_year}"
    return CardRow(
        method.id, labels.card(method.brand, method.last4), expires, method.id == default_id
    )


def _invoice_row(invoice: Invoice, locale: str) -> InvoiceRow:
    token = links.invoice_token(invoice.id)
    return InvoiceRow(
        id=invoice.id,
        number=invoice.number or "",
        status=customer_words.invoice_status(invoice.status),
        amount=_money(invoice.total, invoice.currency, locale),
        date=_day(invoice.finalized_at or invoice.created_at, locale),
        hosted_url=f"/invoice/{token}",
        pdf_url=f"/api/invoices/hosted/{token}/pdf",
        payable=invoice.status in customer_words.PAYABLE
        and invoice.amount_due > invoice.amount_paid,
    )


# -- the portal -------------------------------------------------------------------------------


def _portal_view(db: Session, opened: portal_sessions.OpenPortal) -> PortalView:
    merchant = _merchant(db, opened.session.merchant_id)
    customer, scope, locale = opened.customer, opened.scope, merchant.locale
    can_cancel = billing_settings(db, merchant.id).portal_allows_cancel
    subs, _ = subscriptions.list_subscriptions(db, scope, customer_id=customer.id, limit=MAX_LISTED)
    bills, _ = invoices.list_invoices(db, scope, customer_id=customer.id, limit=MAX_LISTED)
    return PortalView(
        brand=_brand(merchant),
        customer=customer.name or customer.email or "",
        email=customer.email or "",
        return_url=opened.session.return_url or "",
        test_mode=not scope.livemode,
        card_entry=stripe_element.sandbox_card_form(),
        subscriptions=[
            _subscription_row(db, s, locale, can_cancel, customer.default_payment_method_id)
            for s in subs
        ],
        cards=[
            _card_row(m, customer.default_payment_method_id)
            for m in payment_methods.saved_methods(db, customer)
        ],
        invoices=[_invoice_row(i, locale) for i in bills if i.status != InvoiceStatus.DRAFT],
    )


def open_portal(secret: str) -> PortalView:
    """The portal a link opens; NotFound for an unknown or expired link."""
    with session_scope() as db:  # writes the merchant's billing settings on first use
        return _portal_view(db, portal_sessions.open_session(db, secret))


def _guard(ip_address: str | None, scope: Scope) -> None:
    wait = address_guard.address_wait(ip_address, scope.merchant_id, scope.livemode)
    if wait:
        raise RateLimited(DECLINE_WORDS["throttled"], retry_after=wait)


def _count_decline(ip_address: str | None, scope: Scope) -> None:
    address_guard.count_address_decline(ip_address, scope.merchant_id, scope.livemode)


def _attach(
    db: Session, scope: Scope, customer: Customer, token: str, ip: str | None, actor: Actor
) -> tuple[str | None, str]:
    """Save the card for the customer: (its id, "") or (None, why not in words)."""
    _guard(ip, scope)
    try:
        outcome = payment_methods.attach(
            db, scope, customer.id, type="card", token=token, actor=actor
        )
    except ValidationFailed as exc:
        code = "not_a_test_card" if exc.code == "not_a_test_card" else "card_declined"
        return None, DECLINE_WORDS.get(code, DECLINED_WORDS)
    if outcome.payment_method is None:
        _count_decline(ip, scope)
        return None, DECLINE_WORDS.get(outcome.decline_code or "", DECLINED_WORDS)
    return outcome.payment_method.id, ""


def _use_everywhere(
    db: Session, scope: Scope, customer: Customer, method_id: str, actor: Actor
) -> None:
    """The card becomes the customer's default and pays their running subscriptions."""
    from backend.services.customers import records

    records.update_customer(db, scope, customer.id, default_payment_method=method_id, actor=actor)
    subs, _ = subscriptions.list_subscriptions(db, scope, customer_id=customer.id, limit=MAX_LISTED)
    for sub in subs:
        if sub.status in LIVE and sub.default_payment_method_id != method_id:
            subscriptions.set_payment_method(db, scope, sub.id, method_id, actor=actor)


def add_card(secret: str, token: str, *, ip_address: str | None) -> Outcome:
    """Save a new card (sandbox: a test number or token; Stripe: a pm_ id), make it the default
    and the card of every running subscription."""
    with session_scope() as db:
        opened = portal_sessions.open_session(db, secret)
        method_id, problem = _attach(db, opened.scope, opened.customer, token, ip_address, PORTAL)
        if method_id is None:
            return Outcome(False, problem)
        _use_everywhere(db, opened.scope, opened.customer, method_id, PORTAL)
    return Outcome(True, "Your new card is saved and will be used for your next payments.")


def make_default(secret: str, payment_method_id: str) -> Outcome:
    """NotFound only for the link; a card that is not the customer's is an Outcome."""
    with session_scope() as db:
        opened = portal_sessions.open_session(db, secret)
        try:
            _use_everywhere(db, opened.scope, opened.customer, payment_method_id, PORTAL)
        except NotFound:
            db.rollback()
            return Outcome(False, GONE)
    return Outcome(True, "This card will be used for your next payments.")


def cancel(secret: str, subscription_id: str) -> Outcome:
    """Cancel at the end of the period paid for, when the merchant allows it."""
    with session_scope() as db:
        opened = portal_sessions.open_session(db, secret)
        if not billing_settings(db, opened.session.merchant_id).portal_allows_cancel:
            raise Conflict(
                "Cancelling here is not offered: contact the merchant",
                code="portal_cancel_not_allowed",
            )
        try:
            sub = subscriptions.get_subscription(db, opened.scope, subscription_id)
        except NotFound:
            return Outcome(False, GONE)
        if sub.customer_id != opened.customer.id:
            return Outcome(False, GONE)
        sub = subscriptions.cancel_subscription(
            db, opened.scope, sub.id, at_period_end=True, actor=PORTAL
        )
        locale = _merchant(db, sub.merchant_id).locale
        end = _day(sub.current_period_end, locale)
    return Outcome(True, f"Your subscription is canceled. It stays active until {end}.")


def _customer_invoice(
    db: Session, opened: portal_sessions.OpenPortal, invoice_id: str
) -> Invoice | None:
    """The customer's finalized invoice, locked; None for anything else."""
    try:
        invoice = invoices.get_invoice(db, opened.scope, invoice_id, lock=True)
    except NotFound:
        return None
    if invoice.customer_id != opened.customer.id or invoice.status == InvoiceStatus.DRAFT:
        return None
    return invoice


def _pay(
    db: Session,
    invoice: Invoice,
    *,
    token: str | None,
    payment_method_id: str | None,
    ip: str | None,
    actor: Actor,
    make_default: bool,
) -> Outcome:
    """Pay the invoice on session with a new card (`token`) or a saved one. Paid with a new
    card: it pays the subscription's next invoices too, and, from the portal
    (`make_default`), becomes the customer's default."""
    scope = Scope(invoice.merchant_id, invoice.livemode)
    customer = db.get(Customer, invoice.customer_id)
    if customer is None:
        raise NotFound("No such invoice")
    if invoice.status not in customer_words.PAYABLE:
        return Outcome(invoice.status == InvoiceStatus.PAID, "This invoice is already settled.")
    if _awaiting(db, invoice) is not None:
        return Outcome(False, "", needs_action=True)
    if token is not None:
        payment_method_id, problem = _attach(db, scope, customer, token, ip, actor)
        if payment_method_id is None:
            return Outcome(False, problem)
    attempt = invoices.pay_invoice(
        db, scope, invoice.id, payment_method_id=payment_method_id, off_session=False, actor=actor
    )
    paid = attempt.invoice
    if paid.status == InvoiceStatus.PAID:
        if token is not None and payment_method_id and make_default:
            _use_everywhere(db, scope, customer, payment_method_id, actor)
        elif paid.subscription_id and payment_method_id:
            _keep_card(db, scope, paid.subscription_id, payment_method_id, actor)
        return Outcome(True, "Your payment went through.")
    if _awaiting(db, paid) is not None:
        return Outcome(False, "", needs_action=True)
    code = (attempt.outcome.payment.failure_code if attempt.outcome else None) or ""
    if attempt.outcome is not None and attempt.outcome.error_code == "gateway_unavailable":
        code = "unavailable"
    else:
        _count_decline(ip, scope)
    return Outcome(False, DECLINE_WORDS.get(code, DECLINED_WORDS))


def _keep_card(
    db: Session, scope: Scope, subscription_id: str, method_id: str, actor: Actor
) -> None:
    """The card that paid an overdue invoice pays the subscription's next ones too."""
    sub = subscriptions.get_subscription(db, scope, subscription_id)
    if sub.status in LIVE and sub.default_payment_method_id != method_id:
        subscriptions.set_payment_method(db, scope, sub.id, method_id, actor=actor)


def _awaiting(db: Session, invoice: Invoice) -> Payment | None:
    """The invoice's payment that waits for the customer's 3-D Secure, if any."""
    if invoice.payment_id is None or invoice.status not in customer_words.PAYABLE:
        return None
    payment = db.get(Payment, invoice.payment_id)
    if payment is not None and payment.status == PaymentStatus.REQUIRES_ACTION:
        return payment
    return None


def _finish(db: Session, invoice: Invoice, approved: bool | None, actor: Actor) -> Outcome:
    """The bank's challenge ended: booked, and the invoice paid when it passed
    (invoices.finish_authentication)."""
    scope = Scope(invoice.merchant_id, invoice.livemode)
    finished = invoices.finish_authentication(db, scope, invoice.id, approved=approved, actor=actor)
    if finished is None:
        return Outcome(invoice.status == InvoiceStatus.PAID, "")
    if finished.outcome == authentication.WAITING:
        return Outcome(False, "", needs_action=True)
    if finished.outcome == authentication.UNAVAILABLE:
        return Outcome(False, DECLINE_WORDS["unavailable"], needs_action=True)
    if finished.outcome == authentication.CAPTURED:
        return Outcome(True, "Your payment went through.")
    return Outcome(False, DECLINE_WORDS.get(finished.decline_code or "", DECLINED_WORDS))


def pay_from_portal(
    secret: str,
    invoice_id: str,
    *,
    token: str | None = None,
    payment_method_id: str | None = None,
    ip_address: str | None = None,
) -> Outcome:
    """Pay one of the customer's open invoices with a new card or a saved one."""
    with session_scope() as db:
        opened = portal_sessions.open_session(db, secret)
        invoice = _customer_invoice(db, opened, invoice_id)
        if invoice is None:
            return Outcome(False, GONE)
        outcome = _pay(
            db,
            invoice,
            token=token,
            payment_method_id=payment_method_id,
            ip=ip_address,
            actor=PORTAL,
            make_default=True,
        )
    return outcome


def finish_from_portal(secret: str, invoice_id: str, approved: bool | None) -> Outcome:
    with session_scope() as db:
        opened = portal_sessions.open_session(db, secret)
        invoice = _customer_invoice(db, opened, invoice_id)
        if invoice is None:
            return Outcome(False, GONE)
        outcome = _finish(db, invoice, approved, PORTAL)
    return outcome


def awaiting_in_portal(secret: str) -> str:
    """The id of the customer's invoice whose payment waits for 3-D Secure, or ""."""
    with session_scope(readonly=True) as db:
        opened = portal_sessions.open_session(db, secret)
        bills, _ = invoices.list_invoices(
            db, opened.scope, customer_id=opened.customer.id, limit=MAX_LISTED
        )
        return next((i.id for i in bills if _awaiting(db, i) is not None), "")


# -- the hosted invoice page ------------------------------------------------------------------


def _invoice_view(db: Session, invoice: Invoice) -> InvoiceView:
    merchant = _merchant(db, invoice.merchant_id)
    locale = merchant.locale
    lines = [
        LineRow(
            description=line.description,
            period=_span(line.period_start, line.period_end, locale),
            quantity=str(line.quantity) if line.quantity else "",
            amount=_money(line.amount, line.currency, locale),
            credit=line.amount < 0,
        )
        for line in changes.lines_of(db, invoice)
    ]
    paid_with = ""
    if invoice.status == InvoiceStatus.PAID and invoice.payment_id:
        payment = db.get(Payment, invoice.payment_id)
        if payment is not None and payment.card_last4:
            paid_with = labels.card(payment.card_brand, payment.card_last4, payment.card_wallet)
    due = max(invoice.amount_due - invoice.amount_paid, 0)
    payable = invoice.status in customer_words.PAYABLE and due > 0
    billed = " · ".join(v for v in (invoice.customer_name, invoice.customer_email) if v)
    return InvoiceView(
        brand=_brand(merchant),
        number=invoice.number or "",
        status=customer_words.invoice_status(invoice.status),
        paid=invoice.status == InvoiceStatus.PAID,
        payable=payable,
        needs_action=_awaiting(db, invoice) is not None,
        test_mode=not invoice.livemode,
        date=_day(invoice.finalized_at or invoice.created_at, locale),
        period=_span(invoice.period_start, invoice.period_end, locale),
        billed_to=billed,
        lines=lines,
        total=_money(invoice.total, invoice.currency, locale),
        amount_paid=_money(invoice.amount_paid, invoice.currency, locale),
        amount_due=_money(due if payable else 0, invoice.currency, locale),
        pdf_url=f"/api/invoices/hosted/{links.invoice_token(invoice.id)}/pdf",
        paid_with=paid_with,
        card_entry=stripe_element.sandbox_card_form(),
    )


def open_invoice(token: str) -> InvoiceView:
    """The invoice a link names; NotFound for anything else (a draft too)."""
    with session_scope(readonly=True) as db:
        return _invoice_view(db, hosted_invoices.invoice_for_token(db, token))


def pay_hosted_invoice(token: str, card_token: str, *, ip_address: str | None) -> Outcome:
    """Pay the invoice with a new card, on session (the card is saved for the customer)."""
    with session_scope() as db:
        invoice = hosted_invoices.invoice_for_token(db, token, lock=True)
        outcome = _pay(
            db,
            invoice,
            token=card_token,
            payment_method_id=None,
            ip=ip_address,
            actor=HOSTED_INVOICE,
            make_default=False,
        )
    return outcome


def finish_hosted_action(token: str, approved: bool | None) -> Outcome:
    """The end of the bank's 3-D Secure challenge for the invoice's payment."""
    with session_scope() as db:
        invoice = hosted_invoices.invoice_for_token(db, token, lock=True)
        outcome = _finish(db, invoice, approved, HOSTED_INVOICE)
    return outcome
