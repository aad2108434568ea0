"""Payment links: reusable URLs (and QR codes) that open a fresh checkout session on each visit.

A link has a fixed unit price or lets the customer choose the amount within bounds, and may let
the customer choose a quantity. A link may also sell a recurring price of the catalogue: paying
it saves the card (the page says so) and subscribes the customer, the first period paid by the
checkout's payment (backend/services/checkout/subscribing.py). Deactivating a link stops new
visits from paying; sessions already opened from it keep their own expiry. An address refused
for its recent declines (backend/services/checkout_declines.py) opens no new session. QR codes
are drawn by segno (SVG and PNG).
"""

from __future__ import annotations

import io
from typing import Any

import segno
from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.currency import format_money, normalise_currency
from backend.core.errors import NotFound, RateLimited, ServiceError, ValidationFailed
from backend.core.ids import new_id
from backend.models import CheckoutSession, Merchant, PaymentLink, utcnow
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.checkout import card_testing as checkout_declines
from backend.services.checkout import session_state, sessions
from backend.services.context import Actor, Scope
from backend.services.payments import orders, routing

MAX_QUANTITY_LIMIT = 99
DEFAULT_MIN_AMOUNT = 100  # minor units: a customer-chosen amount starts at 1.00 by default
MAX_LINKS_LISTED = 200


def _name(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 120:
        raise ValidationFailed("Give the link a name of 1 to 120 characters", param="name")
    return value.strip()


def _description(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationFailed("The description takes at most 500 characters", param="description")
    return value.strip()


def _bounds(
    unit_amount: object, min_amount: object, max_amount: object
) -> tuple[int | None, int | None, int | None]:
    if unit_amount is not None:
        return orders.validate_amount(unit_amount, param="unit_amount"), None, None
    low = orders.validate_amount(
        DEFAULT_MIN_AMOUNT if min_amount is None else min_amount, param="min_amount"
    )
    high = orders.validate_amount(
        orders.MAX_AMOUNT if max_amount is None else max_amount, param="max_amount"
    )
    if low > high:
        raise ValidationFailed(
            "The minimum amount must not be above the maximum", param="min_amount"
        )
    return None, low, high


def _max_quantity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("The quantity limit must be a whole number", param="max_quantity")
    if not 1 <= value <= MAX_QUANTITY_LIMIT:
        raise ValidationFailed(
            f"The quantity limit must be between 1 and {MAX_QUANTITY_LIMIT}",
            param="max_quantity",
        )
    return value


def create_link(
    db: Session,
    scope: Scope,
    *,
    name: object,
    currency: object,
    unit_amount: object = None,
    min_amount: object = None,
    max_amount: object = None,
    max_quantity: object = 1,
    description: object = None,
    price_id: object = None,
    actor_id: str | None = None,
) -> PaymentLink:
    """A new link; with `price_id` (a recurring price) it sells a subscription at that price,
    whose currency and unit amount it takes."""
    if price_id is not None:
        price = _recurring_price(db, scope, price_id)
        currency, unit_amount, min_amount, max_amount = (
            price.currency,
            price.unit_amount,
            None,
            None,
        )
    unit, low, high = _bounds(unit_amount, min_amount, max_amount)
    link = PaymentLink(
        id=new_id("plink"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        name=_name(name),
        description=_description(description),
        currency=normalise_currency(currency),
        unit_amount=unit,
        min_amount=low,
        max_amount=high,
        max_quantity=_max_quantity(max_quantity),
        price_id=price_id if isinstance(price_id, str) else None,
    )
    if unit is None and link.max_quantity != 1:
        raise ValidationFailed(
            "A customer-chosen amount cannot have a quantity", param="max_quantity"
        )
    db.add(link)
    _audit(db, link, "payment_link.created", actor_id)
    return link


def update_link(
    db: Session,
    scope: Scope,
    link_id: str,
    *,
    name: object,
    currency: object,
    unit_amount: object = None,
    min_amount: object = None,
    max_amount: object = None,
    max_quantity: object = 1,
    description: object = None,
    actor_id: str | None = None,
) -> PaymentLink:
    link = get_link(db, scope, link_id, lock=True)
    if link.price_id is not None:  # a subscription's link keeps its price (prices never change)
        price = _price(db, scope, link.price_id)  # archived since: the link still keeps it
        currency, unit_amount, min_amount, max_amount = (
            price.currency,
            price.unit_amount,
            None,
            None,
        )
    unit, low, high = _bounds(unit_amount, min_amount, max_amount)
    quantity = _max_quantity(max_quantity)
    if unit is None and quantity != 1:
        raise ValidationFailed(
            "A customer-chosen amount cannot have a quantity", param="max_quantity"
        )
    link.name, link.description = _name(name), _description(description)
    link.currency = normalise_currency(currency)
    link.unit_amount, link.min_amount, link.max_amount = unit, low, high
    link.max_quantity = quantity
    link.updated_at = utcnow()
    db.add(link)
    _audit(db, link, "payment_link.updated", actor_id)
    return link


def set_active(
    db: Session, scope: Scope, link_id: str, active: bool, *, actor_id: str | None = None
) -> PaymentLink:
    link = get_link(db, scope, link_id, lock=True)
    if link.active != active:
        link.active, link.updated_at = active, utcnow()
        db.add(link)
        _audit(
            db, link, "payment_link.activated" if active else "payment_link.deactivated", actor_id
        )
    return link


def get_link(db: Session, scope: Scope, link_id: str, *, lock: bool = False) -> PaymentLink:
    return orders.owned(db, PaymentLink, scope, link_id, param="id", lock=lock)


def list_links(db: Session, scope: Scope) -> list[PaymentLink]:
    return list(
        db.exec(
            select(PaymentLink)
            .where(
                PaymentLink.merchant_id == scope.merchant_id,
                PaymentLink.livemode == scope.livemode,
            )
            .order_by(col(PaymentLink.created_at).desc())
            .limit(MAX_LINKS_LISTED)
        )
    )


# ---------------------------------------------------------------------------------------------
# The customer's side


def public_link(db: Session, link_id: str) -> tuple[PaymentLink, Merchant]:
    """A link and its merchant by id alone (the id is the capability); NotFound otherwise."""
    link = db.get(PaymentLink, link_id) if isinstance(link_id, str) and len(link_id) <= 40 else None
    merchant = db.get(Merchant, link.merchant_id) if link else None
    if link is None or merchant is None:
        raise NotFound("No such payment link", param="id")
    return link, merchant


def start_session(
    db: Session,
    link_id: str,
    *,
    amount: int | None = None,
    quantity: int = 1,
    ip_address: str | None = None,
) -> CheckoutSession:
    """A new checkout session for one visit of an active link."""
    link, _ = public_link(db, link_id)
    if not link.active or not price_sells(db, link):
        raise ValidationFailed("This payment link is not active", code="link_inactive")
    wait = checkout_declines.address_wait(ip_address, link.merchant_id, link.livemode)
    if wait:
        raise RateLimited(
            "Too many declined payments came from this address; try again later.",
            retry_after=wait,
            code=session_state.TOO_MANY_DECLINES,
        )
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationFailed("quantity must be a whole number", param="quantity")
    if not 1 <= quantity <= link.max_quantity:
        raise ValidationFailed(
            f"quantity must be between 1 and {link.max_quantity}", param="quantity"
        )
    if link.unit_amount is not None:
        unit = link.unit_amount
    else:
        unit = orders.validate_amount(amount, param="amount")
        if not (link.min_amount or 1) <= unit <= (link.max_amount or orders.MAX_AMOUNT):
            raise ValidationFailed("The amount is outside this link's range", param="amount")
    return sessions.create_session(
        db,
        Scope(link.merchant_id, link.livemode),
        line_items=[{"name": link.name, "quantity": quantity, "unitAmountCents": unit}],
        currency=link.currency,
        payment_methods=_methods(db, link, unit * quantity),
        payment_link_id=link.id,
        require_urls=False,
        metadata={"payment_link": link.id},
        # A subscription keeps the card for its renewals: the page asks for that consent.
        save_payment_method=link.price_id is not None,
        actor=Actor(ActorType.SYSTEM, "payment_link", ip_address),
    )


def _methods(db: Session, link: PaymentLink, amount: int) -> list[str]:
    """Cards, and PayPal when one of the merchant's PayPal processors takes the amount (not for
    a subscription: its renewals charge the card saved at checkout)."""
    takes_paypal = link.price_id is None and routing.merchant_takes(
        db,
        merchant_id=link.merchant_id,
        livemode=link.livemode,
        amount=amount,
        currency=link.currency,
        method="paypal",
    )
    return ["card", "paypal"] if takes_paypal else ["card"]


def _recurring_price(db: Session, scope: Scope, price_id: object) -> Any:
    from backend.services.billing import catalogue

    return catalogue.billable_price(db, scope, price_id, recurring=True)


def price_sells(db: Session, link: PaymentLink) -> bool:
    """A subscription link's price may still be sold (active, of an active product): an
    archived price opens no new checkout, so nobody pays for a subscription that cannot
    start. True for a link without a price."""
    if link.price_id is None:
        return True
    try:
        _recurring_price(db, Scope(link.merchant_id, link.livemode), link.price_id)
    except ServiceError:
        return False
    return True


def _price(db: Session, scope: Scope, price_id: str) -> Any:
    from backend.services.billing import catalogue

    return catalogue.get_price(db, scope, price_id)


def link_of(db: Session, session: CheckoutSession) -> PaymentLink | None:
    """The link a session was opened from, if any."""
    return db.get(PaymentLink, session.payment_link_id) if session.payment_link_id else None


def quantity_totals(link: PaymentLink, locale: str) -> list[str]:
    """The order's total for each quantity the customer may choose (index 0: one unit), in the
    customer's locale, so the page can show a new total the moment the quantity changes."""
    if link.unit_amount is None:
        return []
    return [
        format_money(quantity * link.unit_amount, link.currency, locale)
        for quantity in range(1, link.max_quantity + 1)
    ]


# ---------------------------------------------------------------------------------------------
# Sharing


def link_url(link: PaymentLink) -> str:
    return f"{get_settings().app_url.rstrip('/')}/link/{link.id}"


def qr_svg(link: PaymentLink) -> str:
    """An SVG QR code of the link's URL (error correction M, a 4-module quiet zone)."""
    out = io.BytesIO()
    segno.make(link_url(link), error="m").save(
        out, kind="svg", scale=8, border=4, xmldecl=False, title=link.name
    )
    return out.getvalue().decode()


def qr_png(link: PaymentLink) -> bytes:
    """A PNG QR code of the link's URL, large enough to print on an invoice or a counter card."""
    out = io.BytesIO()
    segno.make(link_url(link), error="m").save(out, kind="png", scale=12, border=4)
    return out.getvalue()


def link_to_dict(link: PaymentLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "name": link.name,
        "description": link.description,
        "currency": link.currency,
        "unitAmount": link.unit_amount,
        "minAmount": link.min_amount,
        "maxAmount": link.max_amount,
        "maxQuantity": link.max_quantity,
        "priceId": link.price_id,
        "active": link.active,
        "url": link_url(link),
    }


def _audit(db: Session, link: PaymentLink, action: str, actor_id: str | None) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=link.merchant_id,
        livemode=link.livemode,
        actor_type=ActorType.USER if actor_id else ActorType.SYSTEM,
        actor_id=actor_id,
        object_type="payment_link",
        object_id=link.id,
        details={"active": link.active},
    )
