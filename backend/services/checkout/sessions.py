"""Checkout sessions: what a merchant asks a customer to pay, and the customer paying it.

A session wraps one order. The merchant creates it (REST API, or a payment link's visit), the
customer pays it on the hosted page, and it ends complete (paid) or expired.

The customer pays it through `paying`; `session_state` says how it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from backend.core.currency import normalise_currency
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.core.url_text import MAX_REDIRECT_URL_LENGTH, redirect_url
from backend.models import CheckoutSession, Merchant, utcnow
from backend.services import context
from backend.services.checkout.session_state import COMPLETE, OPEN, audit_session, expire, refresh
from backend.services.context import Actor, Scope
from backend.services.payments import bank_debits, orders

DEFAULT_TTL = timedelta(hours=24)


MIN_TTL = timedelta(minutes=30)


MAX_TTL = timedelta(days=7)


MAX_LINE_ITEMS = 100


MAX_QUANTITY = 999


MAX_URL_LENGTH = MAX_REDIRECT_URL_LENGTH


# What a session may offer. PayPal and bank payments (ACH: the customer links a US bank account
# through Plaid) are offered when the merchant asks for them (paymentMethods ["card", "bank"]).
PAYMENT_METHODS = ("card", "paypal", "bank")
DEFAULT_PAYMENT_METHODS = ("card",)


KNOWN_PAYMENT_METHODS = PAYMENT_METHODS


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


def _flag(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{param} must be true or false", param=param)
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


def _methods(value: object, currency: str) -> list[str]:
    if value is None:
        return list(DEFAULT_PAYMENT_METHODS)
    if (
        not isinstance(value, list)
        or not value
        or any(m not in KNOWN_PAYMENT_METHODS for m in value)
    ):
        raise ValidationFailed(
            "paymentMethods must be a non-empty list of: card, paypal, bank",
            param="paymentMethods",
        )
    if "bank" in value and currency != bank_debits.CURRENCY:
        raise ValidationFailed(
            f"Bank payments (ACH) are in US dollars only; this session is in {currency}. "
            'Offer paymentMethods ["card"] (or ["card", "paypal"]) for it.',
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
    save_payment_method: object = False,
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
        success_url=redirect_url(success_url, "successUrl", required=require_urls),
        cancel_url=redirect_url(cancel_url, "cancelUrl", required=require_urls),
        payment_methods=_methods(payment_methods, code),
        save_payment_method=_flag(save_payment_method, "savePaymentMethod"),
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
    audit_session(db, session, "checkout.session.created", actor)
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
        expire(db, session, actor)
    return session


def scope_of(session: CheckoutSession) -> Scope:
    return Scope(session.merchant_id, session.livemode)


def merchant_of(db: Session, session: CheckoutSession) -> Merchant:
    merchant = db.get(Merchant, session.merchant_id)
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant
