"""Checkout sessions: what a merchant asks a customer to pay, and the customer paying it.

A session wraps one order. The merchant creates it (REST API, or a payment link's visit), the
customer pays it on the hosted page, and it ends complete (paid) or expired.

Paying is exactly-once per session. `pay` locks the session row for its whole unit of work and
charges the session's order through `services.payments.charges`, which refuses a second active
payment for one order: a double click, a refresh or a second tab waits for the first attempt
and then finds the session complete. A declined payment leaves the session open, so the
customer can try another card. Gateway calls carry an idempotency key derived from the session
and the attempt number, so a retry after a lost answer never charges twice at the processor.

A page that takes card numbers must not serve card testers: after a few declines the session
locks (it expires, and says why), and an address that keeps being declined is refused for a
while before any gateway is called (backend/services/checkout_declines.py has the rules).

The card number passes through `pay` as the sandbox token and is never stored, logged or
repeated in an error (the sandbox keeps brand, last4, expiry and a keyed fingerprint only). In
live mode the browser hands a Stripe PaymentMethod id instead: the number never reaches us.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.currency import format_money, normalise_currency
from backend.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from backend.core.ids import new_id
from backend.core.url_text import character_problem
from backend.gateways import declines
from backend.gateways.base import GatewayUnavailable, Outcome, PaymentResult
from backend.integrations import email as email_outbox
from backend.models import AuditLog, CheckoutSession, Merchant, Order, Payment, utcnow
from backend.models.enums import ActorType, OrderStatus, PaymentStatus
from backend.services import audit, context, events, labels
from backend.services.checkout import card_testing as checkout_declines
from backend.services.checkout.i18n import format_moment, t
from backend.services.context import Actor, Scope
from backend.services.payments import booking, charges, operations, orders, risk, routing
from backend.services.payments.charges import ChargeInput, PaymentMethodInput
from backend.services.representations import payment_to_dict, timestamp

OPEN, COMPLETE, EXPIRED = "open", "complete", "expired"
# What a pay attempt may answer besides a session status (PayResult.status).
DECLINED, REQUIRES_ACTION = "declined", "requires_action"
LOCKED = "locked"  # too many declines: the session expired for the customer's protection
THROTTLED = "throttled"  # too many declines from the customer's address: wait, then try again
TOO_MANY_DECLINES = "too_many_declines"
DEFAULT_TTL = timedelta(hours=24)
MIN_TTL = timedelta(minutes=30)
MAX_TTL = timedelta(days=7)
MAX_LINE_ITEMS = 100
MAX_QUANTITY = 999
MAX_URL_LENGTH = 2000
# What a session may offer. Bank payments (ACH) arrive with the Plaid onboarding work.
PAYMENT_METHODS = ("card",)
KNOWN_PAYMENT_METHODS = ("card", "bank")
CUSTOMER = Actor(ActorType.SYSTEM, "checkout")


# ---------------------------------------------------------------------------------------------
# Creating and reading (the merchant's side)


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: int
    unit_amount: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "quantity": self.quantity, "unitAmountCents": self.unit_amount}


def _line_items(raw: object) -> list[LineItem]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LINE_ITEMS:
        raise ValidationFailed(
            f"lineItems must be a list of 1 to {MAX_LINE_ITEMS} items", param="lineItems"
        )
    items = []
    for index, item in enumerate(raw):
        param = f"lineItems.{index}"
        if not isinstance(item, dict):
            raise ValidationFailed("Each line item is an object", param=param)
        name, quantity, unit = (
            item.get("name"),
            item.get("quantity", 1),
            item.get("unitAmountCents"),
        )
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 120:
            raise ValidationFailed("name must be 1 to 120 characters", param=f"{param}.name")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValidationFailed("quantity must be an integer", param=f"{param}.quantity")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed(
                f"quantity must be between 1 and {MAX_QUANTITY}", param=f"{param}.quantity"
            )
        unit = orders.validate_amount(unit, param=f"{param}.unitAmountCents")
        items.append(LineItem(name.strip(), quantity, unit))
    return items


def _url(value: object, param: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        raise ValidationFailed(f"{param} must be an http(s) URL", param=param)
    problem = character_problem(value, param)
    if problem:
        raise ValidationFailed(problem, param=param)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(f"{param} must be an absolute http(s) URL", param=param)
    return value


def _expiry(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now + DEFAULT_TTL
    if value.tzinfo is None:
        raise ValidationFailed("expiresAt needs a time zone (e.g. Z)", param="expiresAt")
    if not now + MIN_TTL <= value <= now + MAX_TTL:
        raise ValidationFailed(
            "expiresAt must be between 30 minutes and 7 days from now",
            param="expiresAt",
            code="expires_at_out_of_range",
        )
    return value


def _methods(value: object) -> list[str]:
    if value is None:
        return list(PAYMENT_METHODS)
    if (
        not isinstance(value, list)
        or not value
        or any(m not in KNOWN_PAYMENT_METHODS for m in value)
    ):
        raise ValidationFailed(
            "paymentMethods must be a non-empty list of: card, bank", param="paymentMethods"
        )
    if any(m not in PAYMENT_METHODS for m in value):
        raise ValidationFailed(
            "Bank payments are not available yet: they arrive with bank account onboarding. "
            'Use paymentMethods ["card"].',
            param="paymentMethods",
            code="payment_method_unavailable",
        )
    return list(dict.fromkeys(value))


def create_session(
    db: Session,
    scope: Scope,
    *,
    line_items: object = None,
    amount: object = None,
    currency: object,
    customer_email: str | None = None,
    success_url: object = None,
    cancel_url: object = None,
    expires_at: datetime | None = None,
    metadata: object = None,
    payment_methods: object = None,
    payment_link_id: str | None = None,
    require_urls: bool = True,
    actor: Actor = context.SYSTEM,
) -> CheckoutSession:
    from backend.services.identity.accounts import normalise_email

    if (line_items is None) == (amount is None):
        raise ValidationFailed("Give either lineItems or amountCents", param="lineItems")
    code = normalise_currency(currency)
    if line_items is not None:
        items = _line_items(line_items)
        total = orders.validate_amount(
            sum(i.quantity * i.unit_amount for i in items), param="lineItems"
        )
    else:
        total = orders.validate_amount(amount)
        items = []
    now = utcnow()
    session = CheckoutSession(
        id=new_id("cs"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        order_id="",
        payment_link_id=payment_link_id,
        amount_total=total,
        currency=code,
        line_items=[i.to_dict() for i in items],
        customer_email=(
            normalise_email(customer_email, param="customerEmail") if customer_email else None
        ),
        success_url=_url(success_url, "successUrl", required=require_urls),
        cancel_url=_url(cancel_url, "cancelUrl", required=require_urls),
        payment_methods=_methods(payment_methods),
        metadata_=orders.validate_metadata(metadata),
        expires_at=_expiry(expires_at, now),
        created_at=now,
        updated_at=now,
    )
    order = orders.create_order(
        db,
        scope,
        amount=total,
        currency=code,
        reference=session.id,
        customer_email=session.customer_email,
        metadata=session.metadata_,
        actor=actor,
    )
    db.flush()
    session.order_id = order.id
    db.add(session)
    _audit(db, session, "checkout.session.created", actor)
    db.flush()
    return session


def get_session(db: Session, scope: Scope, session_id: str) -> CheckoutSession:
    """The merchant's session (404 for anyone else's), brought up to date (expiry, payment)."""
    session = orders.owned(db, CheckoutSession, scope, session_id, param="id", lock=True)
    refresh(db, session)
    return session


def expire_session(
    db: Session, scope: Scope, session_id: str, *, actor: Actor = context.SYSTEM
) -> CheckoutSession:
    """End an open session now: nothing can be paid on it any more. Expiring again is a no-op."""
    session = orders.owned(db, CheckoutSession, scope, session_id, param="id", lock=True)
    refresh(db, session)
    if session.status == COMPLETE:
        raise Conflict(
            "This checkout session is complete (paid) and cannot expire",
            code="checkout_session_complete",
        )
    if session.status == OPEN:
        _expire(db, session, actor)
    return session


def session_url(session: CheckoutSession) -> str:
    return f"{get_settings().app_url.rstrip('/')}/pay/{session.id}"


def session_to_dict(session: CheckoutSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "object": "checkout.session",
        "livemode": session.livemode,
        "url": session_url(session),
        "status": session.status,
        "amountTotal": session.amount_total,
        "currency": session.currency,
        "lineItems": session.line_items,
        "customerEmail": session.customer_email,
        "successUrl": session.success_url,
        "cancelUrl": session.cancel_url,
        "paymentMethods": session.payment_methods,
        "orderId": session.order_id,
        "paymentId": session.payment_id,
        "paymentLinkId": session.payment_link_id,
        "metadata": session.metadata_,
        "expiresAt": timestamp(session.expires_at),
        "createdAt": timestamp(session.created_at),
        "completedAt": timestamp(session.completed_at),
    }


# ---------------------------------------------------------------------------------------------
# Keeping a session up to date


def refresh(
    db: Session, session: CheckoutSession, *, locale: str = "en_US", time_zone: str = "UTC"
) -> str | None:
    """Apply what happened since the session was last read: its order paid elsewhere (a Stripe
    webhook after 3-D Secure) completes it; its expiry time passing expires it.

    Returns the id of a receipt e-mail to send once the caller's transaction commits.
    """
    if session.status != OPEN:
        return None
    paid = _succeeded_payment(db, session)
    if paid is not None:
        return _complete(db, session, paid, locale, time_zone)
    if utcnow() >= session.expires_at:
        _expire(db, session, context.SYSTEM)
    return None


def sessions_to_settle(db: Session, *, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Open sessions that nobody has read since they fell due: their expiry time has passed, or
    their order was paid off the page (a Stripe webhook after 3-D Secure). The sweep settles
    them so the merchant's webhooks hear at once, not at the next read."""
    now = now or utcnow()
    overdue = db.exec(
        select(CheckoutSession.id)
        .where(CheckoutSession.status == OPEN, col(CheckoutSession.expires_at) <= now)
        .order_by(col(CheckoutSession.expires_at))
        .limit(limit)
    ).all()
    paid = db.exec(
        select(CheckoutSession.id)
        .join(Order, col(Order.id) == col(CheckoutSession.order_id))
        .where(CheckoutSession.status == OPEN, Order.status != OrderStatus.OPEN)
        .limit(limit)
    ).all()
    return list(dict.fromkeys([*paid, *overdue]))


def settle(db: Session, session_id: str) -> str | None:
    """Bring one session up to date under its row lock; the receipt e-mail id to send after
    the commit, if completing it wrote one."""
    return refresh(db, _lock(db, session_id))


def _succeeded_payment(db: Session, session: CheckoutSession) -> Payment | None:
    order = db.get(Order, session.order_id)
    if order is None or order.status == OrderStatus.OPEN:
        return None
    return db.exec(
        select(Payment)
        .where(
            Payment.order_id == session.order_id,
            col(Payment.status).in_(
                (
                    PaymentStatus.SUCCEEDED,
                    PaymentStatus.PARTIALLY_REFUNDED,
                    PaymentStatus.REFUNDED,
                    PaymentStatus.DISPUTED,
                )
            ),
        )
        .order_by(col(Payment.created_at))
    ).first()


def _pending_action(db: Session, session: CheckoutSession) -> Payment | None:
    return db.exec(
        select(Payment).where(
            Payment.order_id == session.order_id,
            Payment.status == PaymentStatus.REQUIRES_ACTION,
        )
    ).first()


def _expire(
    db: Session, session: CheckoutSession, actor: Actor, details: dict[str, Any] | None = None
) -> None:
    pending = _pending_action(db, session)
    if pending is not None:  # a 3-D Secure challenge left open: cancel it at the gateway
        operations.void(db, Scope(session.merchant_id, session.livemode), pending.id, actor=actor)
    now = utcnow()
    session.status, session.expired_at, session.updated_at = EXPIRED, now, now
    order = db.get(Order, session.order_id, with_for_update=True)
    if order is not None and order.status == OrderStatus.OPEN:
        order.status, order.updated_at = OrderStatus.CANCELED, now
        db.add(order)
    db.add(session)
    _audit(db, session, "checkout.session.expired", actor, details)
    events.emit(
        db,
        type="checkout.session.expired",
        merchant_id=session.merchant_id,
        livemode=session.livemode,
        object_type="checkout.session",
        object_id=session.id,
        data={"checkoutSession": session_to_dict(session)},
    )


def _complete(
    db: Session, session: CheckoutSession, payment: Payment, locale: str, time_zone: str = "UTC"
) -> str | None:
    now = utcnow()
    session.status, session.payment_id = COMPLETE, payment.id
    session.completed_at = session.updated_at = now
    session.customer_email = session.customer_email or payment.customer_email
    db.add(session)
    _audit(db, session, "checkout.session.completed", CUSTOMER, {"payment": payment.id})
    events.emit(
        db,
        type="checkout.session.completed",
        merchant_id=session.merchant_id,
        livemode=session.livemode,
        object_type="checkout.session",
        object_id=session.id,
        data={"checkoutSession": session_to_dict(session), "payment": payment_to_dict(payment)},
    )
    if not session.customer_email:
        return None
    return _record_receipt(db, session, payment, locale, time_zone).id


def _record_receipt(
    db: Session, session: CheckoutSession, payment: Payment, locale: str, time_zone: str
) -> Any:
    merchant = db.get(Merchant, session.merchant_id)
    name = merchant.name if merchant else ""
    amount = format_money(payment.amount_captured or payment.amount, payment.currency, locale)
    url = session_url(session)
    lines = [t("email_body", locale, amount=amount, merchant=name), ""]
    for item in session.line_items:
        total = format_money(item["quantity"] * item["unitAmountCents"], session.currency, locale)
        lines.append(f"{item['name']} x {item['quantity']}: {total}")
    if payment.card_last4:
        lines.append(f"{t('paid_with', locale)}: {labels.card_brand(payment.card_brand)} ••••")
        lines[-1] += f" {payment.card_last4}"
    paid_at = format_moment(session.completed_at or utcnow(), locale, time_zone)
    lines += [
        f"{t('date', locale)}: {paid_at}",
        f"{t('reference', locale)}: {payment.id}",
        "",
        t("email_view", locale, url=url),
    ]
    text = "\n".join(lines)
    return email_outbox.record_email(
        db,
        to=session.customer_email or "",
        subject=t("email_subject", locale, merchant=name),
        text=text,
        template="checkout_receipt",
        merchant_id=session.merchant_id,
    )


def _audit(
    db: Session,
    session: CheckoutSession,
    action: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=session.merchant_id,
        livemode=session.livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        object_type="checkout.session",
        object_id=session.id,
        ip_address=actor.ip_address,
        details={"status": session.status, **(details or {})},
    )


# ---------------------------------------------------------------------------------------------
# Paying (the customer's side: the session id is the capability)


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
    retry_after: int = 0  # seconds, when "throttled"


def open_session(
    db: Session, session_id: str, *, locale: str = "en_US", time_zone: str = "UTC"
) -> PayResult:
    """The customer's view of a session, brought up to date; NotFound for an unknown id."""
    session = _lock(db, session_id)
    receipt = refresh(db, session, locale=locale, time_zone=time_zone)
    if session.status == OPEN:
        pending = _pending_action(db, session)
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


def _lock(db: Session, session_id: str) -> CheckoutSession:
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 40:
        raise NotFound("No such checkout session", param="id")
    session = db.exec(
        select(CheckoutSession).where(CheckoutSession.id == session_id).with_for_update()
    ).first()
    if session is None:
        raise NotFound("No such checkout session", param="id")
    return session


def pay(
    db: Session,
    session_id: str,
    *,
    token: str,
    customer_email: str | None,
    ip_address: str | None = None,
    locale: str = "en_US",
    time_zone: str = "UTC",
) -> PayResult:
    """Charge the session's order with a card (sandbox: the number; Stripe: a pm_ id).

    Raises ValidationFailed for input the customer must fix (the e-mail, a number the sandbox
    does not know); a decline is an ordinary result and leaves the session open, until the
    declines lock it. An address with too many recent declines is refused ("throttled")
    before anything reaches a gateway.
    """
    from backend.services.identity.accounts import normalise_email

    session = _lock(db, session_id)
    receipt = refresh(db, session, locale=locale, time_zone=time_zone)
    if session.status != OPEN:
        return _closed(db, session, receipt)
    pending = _pending_action(db, session)
    if pending is not None:  # another tab started a 3-D Secure challenge: finish that one
        return PayResult(REQUIRES_ACTION, session, pending)
    email = session.customer_email or (
        normalise_email(customer_email, param="customerEmail") if customer_email else None
    )
    if email is None:
        raise ValidationFailed("An e-mail address is required", param="customerEmail")
    wait = checkout_declines.address_wait(ip_address, session.merchant_id, session.livemode)
    if wait:
        _record_refusal(db, session, ip_address, wait)
        return PayResult(THROTTLED, session, error_code=TOO_MANY_DECLINES, retry_after=wait)
    attempt = len(orders.list_order_payments(db, _scope(session), session.order_id)) + 1
    try:
        outcome = charges.charge(
            db,
            _scope(session),
            ChargeInput(
                payment_method=PaymentMethodInput("card", token),
                order_id=session.order_id,
                customer_email=email,
                ip_address=ip_address,
                metadata={"checkout_session_id": session.id},
                idempotency_key=f"checkout:{session.id}:{attempt}",
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
        return PayResult(REQUIRES_ACTION, session, payment, client_secret=_secret(db, payment))
    receipt = _complete(db, session, payment, locale, time_zone)
    return PayResult(COMPLETE, session, payment, receipt_email_id=receipt)


def _decline_key(outcome: charges.PaymentOutcome) -> str:
    if outcome.error_code in ("gateway_unavailable", "gateway_outcome_unknown"):
        return "unavailable"
    if outcome.error_code == "payment_blocked":
        return "payment_blocked"
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
        _audit(
            db,
            session,
            "checkout.session.address_throttled",
            Actor(ActorType.SYSTEM, "checkout", ip_address),
            {"reason": "too_many_declines_from_address", "retryAfter": wait},
        )
    if _locked(db, session):
        _expire(
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
        _audit(
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
    """The end of a 3-D Secure challenge. Sandbox: the customer's answer (`approved`). Stripe:
    the PaymentIntent's state after stripe.handleNextAction in the browser (`approved` None)."""
    session = _lock(db, session_id)
    receipt = refresh(db, session, locale=locale, time_zone=time_zone)
    if session.status != OPEN:
        return _closed(db, session, receipt)
    payment = _pending_action(db, session)
    if payment is None:
        return PayResult(OPEN, session)
    route = routing.route_for_payment(db, payment)
    try:
        result: PaymentResult = routing.call(
            route,
            lambda g: g.complete_action(payment.gateway_payment_id or "", approved, capture=True),
            charges.attempt_recorder(db, payment, "authenticate"),
            charges.outcome_of,
        )
    except GatewayUnavailable:
        return PayResult(DECLINED, session, payment, error_code="unavailable")
    if result.outcome == Outcome.REQUIRES_ACTION:
        return PayResult(REQUIRES_ACTION, session, payment, client_secret=_secret(db, payment))
    if result.outcome == Outcome.DECLINED:
        code = result.decline_code or "authentication_failed"
        booking.fail(db, payment, code, result.message or "The card was declined.", CUSTOMER)
        return _declined(db, session, payment, declines.customer_code(code), ip_address)
    return _apply_success(db, session, payment, route.fees, locale, time_zone)


def _apply_success(
    db: Session,
    session: CheckoutSession,
    payment: Payment,
    gateway_fees: Any,
    locale: str,
    time_zone: str,
) -> PayResult:
    """Book a 3-D Secure challenge passed, through the one booking path (as a first answer or
    the Stripe webhook would), so the payment, its order, audit rows and events agree."""
    order = db.get(Order, session.order_id, with_for_update=True)
    assert order is not None
    platform = booking.platform_fees(db, session.merchant_id)
    booking.capture(db, order, payment, payment.amount, platform, gateway_fees, CUSTOMER, utcnow())
    receipt = _complete(db, session, payment, locale, time_zone)
    return PayResult(COMPLETE, session, payment, receipt_email_id=receipt)


def _secret(db: Session, payment: Payment) -> str | None:
    """The PaymentIntent's client secret (Stripe only), for stripe.handleNextAction."""
    if not payment.gateway_payment_id:
        return None
    route = routing.route_for_payment(db, payment)
    return route.gateway.client_secret(payment.gateway_payment_id)


def send_receipt(email_id: str | None) -> None:
    """Send a receipt recorded by pay/finish_action/open_session, after their commit."""
    if email_id:
        email_outbox.send_recorded(email_id)


def _scope(session: CheckoutSession) -> Scope:
    return Scope(session.merchant_id, session.livemode)


def merchant_of(db: Session, session: CheckoutSession) -> Merchant:
    merchant = db.get(Merchant, session.merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant


__all__ = [
    "COMPLETE",
    "DECLINED",
    "EXPIRED",
    "LOCKED",
    "OPEN",
    "REQUIRES_ACTION",
    "THROTTLED",
    "PayResult",
    "ServiceError",
    "create_session",
    "expire_session",
    "finish_action",
    "get_session",
    "open_session",
    "pay",
    "send_receipt",
    "session_to_dict",
]
