"""The customer paying a checkout session on the hosted page: open it, pay (exactly once per
session, with the card-testing guard), and finish a 3-D Secure step.

Paying is exactly-once per session. `pay` locks the session row for its whole unit of work and
charges the session's order through `services.payments.charges`, which refuses a second active
payment for one order: a double click, a refresh or a second tab waits for the first attempt
and then finds the session complete. A declined payment leaves the session open, so the
customer can try another card. Gateway calls carry an idempotency key derived from the session
and the attempt number, so a retry after a lost answer never charges twice at the processor.

The card number passes through `pay` as the sandbox token and is never stored, logged or
repeated in an error (the sandbox keeps brand, last4, expiry and a keyed fingerprint only). In
live mode the browser hands a Stripe PaymentMethod id instead: the number never reaches us.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from backend.core.config import get_settings
from backend.core.currency import format_money
from backend.core.errors import Conflict, ValidationFailed
from backend.gateways import declines, sandbox
from backend.integrations import email as email_outbox
from backend.models import AuditLog, CheckoutSession, Merchant, Order, Payment
from backend.models.enums import ActorType, PaymentStatus
from backend.services.checkout import card_testing as checkout_declines
from backend.services.checkout import i18n, stripe_element, subscribing
from backend.services.checkout.session_state import (
    COMPLETE,
    CUSTOMER,
    DECLINED,
    EXPIRED,
    LOCKED,
    OPEN,
    REQUIRES_ACTION,
    THROTTLED,
    TOO_MANY_DECLINES,
    audit_session,
    complete,
    expire,
    lock_session,
    pending_action,
    refresh,
)
from backend.services.checkout.sessions import scope_of
from backend.services.context import Actor
from backend.services.payments import (
    authentication,
    bank_debits,
    bank_linking,
    charges,
    orders,
    risk,
    routing,
)
from backend.services.payments.charges import ChargeInput, PaymentMethodInput

PAYPAL = "paypal"
BANK = "bank"
CANCELED = "payment_canceled"
# The ways to pay the hosted page takes itself.
PAYING_METHODS = ("card", PAYPAL, BANK)


@dataclass(frozen=True)
class BankChoice:
    """A bank payment: the account the customer linked through Plaid Link (or its twin) and
    their browser, for the mandate they accept by paying."""

    public_token: str
    account_id: str
    user_agent: str


@dataclass(frozen=True)
class PayResult:
    """What the page shows next: "complete", "requires_action", "declined", "expired", "locked"
    (too many declines on the session) or "throttled" (from the address: `retry_after`)."""

    status: str
    session: CheckoutSession
    payment: Payment | None = None
    error_code: str | None = None
    # Test mode only: the risk rule that refused the payment, in words, for the tester. A live
    # customer is never told which rule fired (it would show a fraudster what to change).
    blocked_by: str | None = None
    receipt_email_id: str | None = None  # send with send_receipt() after the commit
    # Stripe: what the browser needs to finish 3-D Secure (stripe.handleNextAction).
    client_secret: str | None = None
    # PayPal: the approval page the browser goes to (None for the offline twin, whose
    # approval step is this page's own approve / cancel step).
    action_url: str | None = None
    retry_after: int = 0  # seconds, when "throttled"


def open_session(
    db: Session, session_id: str, *, locale: str = "en_US", time_zone: str = "UTC"
) -> PayResult:
    """The customer's view of a session, brought up to date; NotFound for an unknown id."""
    session = lock_session(db, session_id)
    receipt = refresh(db, session, locale=locale, time_zone=time_zone)
    if session.status == OPEN:
        pending = pending_action(db, session)
        if pending is not None and pending.payment_method_type == PAYPAL:
            return _waiting(db, session, pending)  # back on the page: PayPal's link again
        if pending is not None:
            return PayResult(REQUIRES_ACTION, session, pending)
        return PayResult(OPEN, session)
    return _closed(db, session, receipt)


def _closed(db: Session, session: CheckoutSession, receipt: str | None = None) -> PayResult:
    """A session that takes no more payments: complete, expired, or locked after declines."""
    payment = db.get(Payment, session.payment_id) if session.payment_id else None
    if session.status == EXPIRED and _locked(db, session):
        return PayResult(LOCKED, session, error_code=TOO_MANY_DECLINES)
    return PayResult(session.status, session, payment, receipt_email_id=receipt)


def _locked(db: Session, session: CheckoutSession) -> bool:
    declines = checkout_declines.order_declines(db, session.order_id)
    return declines >= checkout_declines.MAX_SESSION_DECLINES


def pay(
    db: Session,
    session_id: str,
    *,
    token: str,
    customer_email: str | None,
    ip_address: str | None = None,
    locale: str = "en_US",
    time_zone: str = "UTC",
    save_card: bool = False,
    method: str = "card",
    bank: BankChoice | None = None,
    wallet: str | None = None,
) -> PayResult:
    """Charge the session's order with a card (sandbox: the number; Stripe: a pm_ id), or
    with PayPal (`method` "paypal", `token` ignored): the payment then waits for the buyer's
    approval (requires_action, `action_url` PayPal's page; back on this page, finish_action).
    Or debit a US bank account (`method` "bank", `bank` the linked account): the customer
    accepted the mandate shown (`mandate_text`), stored with their address and browser; the
    payment is then processing for days and the session complete (the receipt says so).

    `wallet` ("apple_pay", "google_pay"): the sandbox page's test wallet, `token` ignored. It
    hands over a tokenised test card (Visa 4242) as Apple Pay and Google Pay do through
    Stripe, and the payment is a card payment like any other. Wallets are part of the card
    method (as at Stripe): a session that takes cards takes them. With Stripe keys the
    Payment Element's own wallet buttons make an ordinary pm_ id instead.

    `save_card`: the customer ticked "save for future payments" (the merchant's consent text),
    which a session offers when created with savePaymentMethod: the card is saved for the
    session's customer (the order's, or the one with the e-mail, made if new) as the payment
    succeeds. Without the session's offer it is ignored.

    Raises ValidationFailed for input the customer must fix (the e-mail, a number the sandbox
    does not know); a decline is an ordinary result and leaves the session open, until the
    declines lock it. An address with too many recent declines is refused ("throttled")
    before anything reaches a gateway.
    """
    from backend.services.identity.accounts import normalise_email

    session = lock_session(db, session_id)
    receipt = refresh(db, session, locale=locale, time_zone=time_zone)
    if session.status != OPEN:
        return _closed(db, session, receipt)
    pending = pending_action(db, session)
    if pending is not None and pending.payment_method_type == PAYPAL:
        return _waiting(db, session, pending)  # another tab went to PayPal: finish that one
    if pending is not None:  # another tab started a 3-D Secure challenge: finish that one
        return PayResult(REQUIRES_ACTION, session, pending)
    email = session.customer_email or (
        normalise_email(customer_email, param="customerEmail") if customer_email else None
    )
    if email is None and method != PAYPAL:  # PayPal knows its buyer's address
        raise ValidationFailed("An e-mail address is required", param="customerEmail")
    wait = checkout_declines.address_wait(ip_address, session.merchant_id, session.livemode)
    if wait:
        _record_refusal(db, session, ip_address, wait)
        return PayResult(THROTTLED, session, error_code=TOO_MANY_DECLINES, retry_after=wait)
    if method not in session.payment_methods or method not in PAYING_METHODS:
        raise ValidationFailed(
            "This checkout does not take that way to pay", param="paymentMethod.type"
        )
    if method == PAYPAL:
        token = PAYPAL
    if wallet is not None:
        token = _test_wallet_token(session, method, wallet)
    attempt = len(orders.list_order_payments(db, scope_of(session), session.order_id)) + 1
    back = f"{get_settings().app_url}/pay/{session.id}"
    subscription = bool(session.save_payment_method) and subscribing.sells_subscription(db, session)
    if method != "card" and subscription:  # renewals charge a saved card; none is kept here
        raise ValidationFailed(
            "A subscription is paid by card: its renewals charge the card saved now",
            param="paymentMethod.type",
        )
    mandate = linked = None
    if method == BANK:
        token, linked, mandate = _bank_debit(db, session, bank, ip_address, locale)
    saving = bool(session.save_payment_method) and method == "card" and (save_card or subscription)
    if saving:
        _customer_for_saving(db, session, email)  # type: ignore[arg-type]  # cards need one
    try:
        outcome = charges.charge(
            db,
            scope_of(session),
            ChargeInput(
                payment_method=PaymentMethodInput(method, token),
                return_url=f"{back}?paypal=return" if method == PAYPAL else None,
                cancel_url=f"{back}?paypal=cancel" if method == PAYPAL else None,
                order_id=session.order_id,
                customer_email=email,
                ip_address=ip_address,
                metadata={"checkout_session_id": session.id},
                idempotency_key=f"checkout:{session.id}:{attempt}",
                save_card=saving,
                mandate=mandate,
                linked_bank=linked,
            ),
            actor=Actor(ActorType.SYSTEM, "checkout", ip_address),
        )
    except Conflict as exc:
        if exc.code not in ("order_already_paid", "order_not_payable"):
            raise
        return open_session(db, session.id, locale=locale, time_zone=time_zone)
    payment = outcome.payment
    if not outcome.ok:
        blocked_by = None
        if outcome.error_rule and not session.livemode:
            blocked_by = risk.describe_reason(outcome.error_rule)
        return _declined(db, session, payment, _decline_key(outcome), ip_address, blocked_by)
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        return _waiting(db, session, payment)
    receipt = complete(db, session, payment, locale, time_zone)
    return PayResult(COMPLETE, session, payment, receipt_email_id=receipt)


def mandate_text(db: Session, session: CheckoutSession, locale: str) -> str:
    """The bank debit mandate the page shows before the customer pays, in their language: the
    text stored with the payment is this one."""
    merchant = db.get(Merchant, session.merchant_id)
    amount = format_money(session.amount_total, session.currency, locale)
    return i18n.t("bank_mandate", locale, merchant=merchant.name if merchant else "", amount=amount)


def _bank_debit(
    db: Session,
    session: CheckoutSession,
    bank: BankChoice | None,
    ip_address: str | None,
    locale: str,
) -> tuple[str, bank_debits.LinkedBank, bank_debits.MandateInput]:
    """The token to debit the linked account with, the account, and the mandate accepted."""
    if bank is None:
        raise ValidationFailed("Choose your bank account", param="account")
    bank_debits.check_currency(session.currency)
    token, linked = bank_linking.link(bank.public_token, bank.account_id)
    mandate = bank_debits.MandateInput(
        text=mandate_text(db, session, locale),
        ip_address=ip_address or "",
        user_agent=bank.user_agent,
        language=i18n.language_of(locale),
    )
    return token, linked, mandate


def _test_wallet_token(session: CheckoutSession, method: str, wallet: str) -> str:
    """The sandbox token of the test wallet's card ("pm_apple_pay_visa"). Refused before
    anything is written where the page has no test wallet: a live session, or Stripe keys
    set (whose Payment Element shows the real wallets)."""
    if method != "card" or session.livemode or not stripe_element.sandbox_card_form():
        raise ValidationFailed(
            "The test wallet pays test-mode checkouts in the sandbox only",
            param="paymentMethod.wallet",
        )
    try:
        return sandbox.wallet_token(wallet)
    except ValueError:
        raise ValidationFailed(
            "The test wallet is apple_pay or google_pay", param="paymentMethod.wallet"
        ) from None


def _waiting(db: Session, session: CheckoutSession, payment: Payment) -> PayResult:
    """A payment waiting for the customer's step: Stripe's script needs its client secret,
    PayPal's page is a redirect to its approval link; the sandbox's and the PayPal twin's is
    this page's own approve / cancel step."""
    if payment.payment_method_type == PAYPAL:
        return PayResult(
            REQUIRES_ACTION, session, payment, action_url=authentication.action_url(db, payment)
        )
    return PayResult(
        REQUIRES_ACTION, session, payment, client_secret=authentication.client_secret(db, payment)
    )


def _customer_for_saving(db: Session, session: CheckoutSession, email: str) -> None:
    """The order gets a customer to save the card for: its own, else the merchant's customer
    with this e-mail, else a new one (customers.records, with its customer.created event)."""
    from backend.services.customers import records

    order = db.get(Order, session.order_id, with_for_update=True)
    if order is None or order.customer_id is not None:
        return
    scope = scope_of(session)
    found, _ = records.search_customers(db, scope, email=email, limit=1)
    customer = (
        found[0] if found else records.create_customer(db, scope, email=email, actor=CUSTOMER)
    )
    order.customer_id = customer.id
    db.add(order)
    db.flush()


def _decline_key(outcome: charges.PaymentOutcome) -> str:
    if outcome.error_code in routing.UNAVAILABLE_CODES:
        return "unavailable"
    if outcome.error_code == "payment_blocked":
        return "payment_blocked"
    if outcome.payment.payment_method_type == BANK:
        return "bank_debit_failed"
    return declines.customer_code(outcome.payment.failure_code)


def _declined(
    db: Session,
    session: CheckoutSession,
    payment: Payment,
    key: str,
    ip_address: str | None,
    blocked_by: str | None = None,
) -> PayResult:
    """A failed attempt: counted against the address and the session, which it may lock."""
    if not checkout_declines.is_decline(payment):  # the processor's trouble, not the card's
        return PayResult(DECLINED, session, payment, error_code=key, blocked_by=blocked_by)
    wait = checkout_declines.count_address_decline(
        ip_address, session.merchant_id, session.livemode
    )
    if wait:  # this decline used up the address's allowance: say so once, here
        audit_session(
            db,
            session,
            "checkout.session.address_throttled",
            Actor(ActorType.SYSTEM, "checkout", ip_address),
            {"reason": "too_many_declines_from_address", "retryAfter": wait},
        )
    if _locked(db, session):
        expire(
            db,
            session,
            Actor(ActorType.SYSTEM, "checkout", ip_address),
            {"reason": TOO_MANY_DECLINES, "declines": checkout_declines.MAX_SESSION_DECLINES},
        )
        return PayResult(LOCKED, session, payment, error_code=TOO_MANY_DECLINES)
    return PayResult(DECLINED, session, payment, error_code=key, blocked_by=blocked_by)


def _record_refusal(
    db: Session, session: CheckoutSession, ip_address: str | None, wait: int
) -> None:
    """Audit an attempt refused for its address, once per session (a tester retries a lot)."""
    action = "checkout.session.attempt_refused"
    seen = db.exec(
        select(AuditLog.id).where(AuditLog.object_id == session.id, AuditLog.action == action)
    ).first()
    if seen is None:
        audit_session(
            db,
            session,
            action,
            Actor(ActorType.SYSTEM, "checkout", ip_address),
            {"reason": "too_many_declines_from_address", "retryAfter": wait},
        )


def finish_action(
    db: Session,
    session_id: str,
    *,
    approved: bool | None = None,
    ip_address: str | None = None,
    locale: str = "en_US",
    time_zone: str = "UTC",
) -> PayResult:
    """The end of a 3-D Secure challenge or a PayPal approval. Sandbox and the PayPal twin: the
    customer's answer (`approved`). Stripe: the PaymentIntent's state after
    stripe.handleNextAction in the browser (`approved` None). PayPal: the customer came back
    from PayPal's page, `approved` None on its return URL (the order's state at PayPal decides,
    never the URL) and False on its cancel URL."""
    session = lock_session(db, session_id)
    receipt = refresh(db, session, locale=locale, time_zone=time_zone)
    if session.status != OPEN:
        return _closed(db, session, receipt)
    payment = pending_action(db, session)
    if payment is None:
        return PayResult(OPEN, session)
    finished = authentication.finish(db, payment, approved, CUSTOMER)
    if finished.outcome == authentication.UNAVAILABLE:
        return PayResult(DECLINED, session, payment, error_code="unavailable")
    if finished.outcome == authentication.WAITING:
        return _waiting(db, session, payment)
    if finished.outcome == authentication.DECLINED:
        code = finished.decline_code or "authentication_failed"
        if code != CANCELED:  # the customer's own cancel at PayPal is told as it is
            code = declines.customer_code(code)
        return _declined(db, session, payment, code, ip_address)
    receipt = complete(db, session, payment, locale, time_zone)
    return PayResult(COMPLETE, session, payment, receipt_email_id=receipt)


def send_receipt(email_id: str | None) -> None:
    """Send a receipt recorded by pay/finish_action/open_session, after their commit."""
    if email_id:
        email_outbox.send_recorded(email_id)
