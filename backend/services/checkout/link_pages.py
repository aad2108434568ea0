"""The portal's payment links page for a signed-in member: list, create, edit, activate and
deactivate links, and their QR codes. Each function checks the member's permission, then
acts through payment_links in a unit of work of its own.

A link is of one of three kinds (the form's `pricing`): a fixed price ("fixed"), an amount
the customer chooses ("custom"), or a subscription to one of the merchant's active recurring
prices ("subscription", backend/services/checkout/subscribing.py). The page reads prices and
links in words ("Tea club — $15.00 every month"), never codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

from backend.core.currency import exponent, format_money
from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.models import PaymentLink
from backend.models.billing import Price, Product
from backend.services import labels
from backend.services.billing import catalogue
from backend.services.checkout import payment_links
from backend.services.context import Scope
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _minor(text: str, currency: str, param: str) -> int | None:
    """A typed amount in major units (12.50) as minor units; None when left empty."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned).scaleb(exponent(currency))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Enter the amount as a number, such as 12.50", param=param) from None
    if value != value.to_integral_value():
        raise ValidationFailed("That amount has too many decimal places", param=param)
    return int(value)


PRICINGS = ("fixed", "custom", "subscription")
MAX_PRICES_OFFERED = 100


@dataclass(frozen=True)
class PriceChoice:
    id: str
    label: str  # "Tea club — $15.00 every month"


@dataclass(frozen=True)
class LinkRow:
    id: str
    name: str
    price: (
        str  # "$12.50 each (up to 5)", "Customer chooses (…)", "Subscription · $15.00 every month"
    )
    active: bool
    url: str
    pricing: str  # fixed | custom | subscription


def _price_words(price: Price, product: Product | None) -> str:
    """ "$15.00 every month", what the price bills each time."""
    every = labels.recurrence(price.recurring_interval, price.recurring_interval_count)
    return f"{format_money(price.unit_amount, price.currency)} {every}"


def _choice_label(price: Price, product: Product | None) -> str:
    name = product.name if product else "Product"
    if price.nickname:
        name = f"{name} ({price.nickname})"
    return f"{name} — {_price_words(price, product)}"


def _prices_with_products(
    db: Session, scope: Scope, price_ids: list[str]
) -> dict[str, tuple[Price, Product | None]]:
    """The merchant's own prices of these ids (in this mode) with their products."""
    if not price_ids:
        return {}
    rows = db.exec(
        select(Price, Product)
        .join(Product, col(Product.id) == Price.product_id)
        .where(
            col(Price.id).in_(sorted(set(price_ids))),
            Price.merchant_id == scope.merchant_id,
            Price.livemode == scope.livemode,
        )
    ).all()
    return {price.id: (price, product) for price, product in rows}


def _row(link: PaymentLink, price: tuple[Price, Product | None] | None) -> LinkRow:
    pricing = "fixed"
    if link.price_id is not None and price is not None:
        pricing, words = "subscription", f"Subscription · {_price_words(*price)}"
        if link.max_quantity > 1:
            words += f", up to {link.max_quantity} at once"
    elif link.unit_amount is not None:
        words = format_money(link.unit_amount, link.currency)
        if link.max_quantity > 1:
            words += f" each (up to {link.max_quantity})"
    else:
        pricing = "custom"
        low = format_money(link.min_amount or 0, link.currency)
        high = format_money(link.max_amount or 0, link.currency)
        words = f"Customer chooses ({low} to {high})"
    return LinkRow(
        id=link.id,
        name=link.name,
        price=words,
        active=link.active,
        url=payment_links.link_url(link),
        pricing=pricing,
    )


def list_links(ctx: SessionContext) -> list[PaymentLink]:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        return list(payment_links.list_links(db, _scope(ctx)))


def link_rows(ctx: SessionContext) -> list[LinkRow]:
    """The page's list: each link with its price in words, newest first."""
    require(ctx.role, Permission.VIEW_DATA)
    scope = _scope(ctx)
    with session_scope(readonly=True) as db:
        links = payment_links.list_links(db, scope)
        prices = _prices_with_products(db, scope, [k.price_id for k in links if k.price_id])
        return [_row(link, prices.get(link.price_id or "")) for link in links]


def subscription_prices(ctx: SessionContext) -> list[PriceChoice]:
    """The recurring prices a new subscription link may sell: active, of an active product,
    newest first, each in words ("Tea club — $15.00 every month"). Empty: the page explains
    how to make one (Billing, Products)."""
    require(ctx.role, Permission.VIEW_DATA)
    scope = _scope(ctx)
    with session_scope(readonly=True) as db:
        found, _ = catalogue.list_prices(
            db, scope, active=True, type="recurring", limit=MAX_PRICES_OFFERED
        )
        products = _prices_with_products(db, scope, [p.id for p in found])
        return [
            PriceChoice(price.id, _choice_label(price, product))
            for price, product in (products[p.id] for p in found if p.id in products)
            if product is not None and product.active
        ]


def link_price(ctx: SessionContext, link: PaymentLink) -> str:
    """A subscription link's price in words, for the edit form (it keeps its price)."""
    if link.price_id is None:
        return ""
    with session_scope(readonly=True) as db:
        found = _prices_with_products(db, _scope(ctx), [link.price_id])
    if link.price_id not in found:
        return ""
    return _choice_label(*found[link.price_id])


def get_link(ctx: SessionContext, link_id: str) -> PaymentLink:
    """One of the merchant's links in this mode (to fill the edit form)."""
    with session_scope(readonly=True) as db:
        return payment_links.get_link(db, _scope(ctx), link_id)


def save_link(
    ctx: SessionContext, link_id: str, form: Mapping[str, object], *, pricing: str = "fixed"
) -> PaymentLink:
    """Create a link (link_id "") or change one, from the form as typed: a fixed price (with
    a quantity limit), an amount the customer chooses between two bounds, or a subscription
    to one of the merchant's recurring prices (form's `price_id`, with a quantity limit).

    A subscription link keeps its price when edited (a new price is a new link), and a link
    of another kind does not become one."""
    require(ctx.role, Permission.MANAGE_PAYMENT_LINKS)
    if pricing not in PRICINGS:
        raise ValidationFailed("Choose how the link is priced", param="pricing")
    existing = get_link(ctx, link_id) if link_id else None
    if existing is not None and existing.price_id is not None:
        return _save_subscription(ctx, existing.id, form)
    if pricing == "subscription":
        if existing is not None:
            raise ValidationFailed(
                "A link cannot become a subscription: create a new link for it",
                param="pricing",
            )
        return _save_subscription(ctx, "", form)
    return _save(ctx, link_id, form, fixed=pricing == "fixed")


def _quantity(form: Mapping[str, object]) -> int:
    try:
        return int(str(form.get("max_quantity", "1")).strip() or "1")
    except ValueError:
        raise ValidationFailed(
            "The quantity limit must be a whole number", param="max_quantity"
        ) from None


def _save_subscription(
    ctx: SessionContext, link_id: str, form: Mapping[str, object]
) -> PaymentLink:
    """A new subscription link at the form's `price_id`, or an edit of one: its name,
    description and quantity limit change, its price never (payment_links.update_link)."""
    common = {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "max_quantity": _quantity(form),
    }
    if link_id:
        with session_scope() as db:
            return payment_links.update_link(
                db, _scope(ctx), link_id, actor_id=ctx.user_id, currency=None, **common
            )
    price_id = str(form.get("price_id", "")).strip()
    if not price_id:
        raise ValidationFailed("Choose the recurring price this link sells", param="price_id")
    try:
        with session_scope() as db:
            return payment_links.create_link(
                db, _scope(ctx), actor_id=ctx.user_id, currency=None, price_id=price_id, **common
            )
    except NotFound:  # another merchant's or mode's price is simply not found
        raise NotFound(
            "That price is not one of yours: choose a recurring price from the list",
            param="price_id",
        ) from None
    except Conflict:
        raise ValidationFailed(
            "That price or its product is archived: choose an active recurring price",
            param="price_id",
        ) from None
    except ValidationFailed as exc:
        if exc.code != "price_type_mismatch":
            raise
        raise ValidationFailed(
            "That price is charged once: a subscription needs a recurring price",
            param="price_id",
        ) from None


def _save(
    ctx: SessionContext, link_id: str, form: Mapping[str, object], *, fixed: bool
) -> PaymentLink:
    currency = str(form.get("currency", "USD")).strip().upper()[:3]
    quantity = _quantity(form) if fixed else 1
    values = {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "currency": currency,
        "unit_amount": _minor(str(form.get("unit_amount", "")), currency, "unit_amount")
        if fixed
        else None,
        "min_amount": None
        if fixed
        else _minor(str(form.get("min_amount", "")), currency, "min_amount"),
        "max_amount": None
        if fixed
        else _minor(str(form.get("max_amount", "")), currency, "max_amount"),
        "max_quantity": quantity,
    }
    if fixed and values["unit_amount"] is None:
        raise ValidationFailed("Enter the price", param="unit_amount")
    with session_scope() as db:
        if link_id:
            return payment_links.update_link(
                db, _scope(ctx), link_id, actor_id=ctx.user_id, **values
            )
        return payment_links.create_link(db, _scope(ctx), actor_id=ctx.user_id, **values)


def set_active(ctx: SessionContext, link_id: str, active: bool) -> PaymentLink:
    require(ctx.role, Permission.MANAGE_PAYMENT_LINKS)
    with session_scope() as db:
        return payment_links.set_active(db, _scope(ctx), link_id, active, actor_id=ctx.user_id)


def qr_code(ctx: SessionContext, link_id: str, kind: str) -> tuple[bytes | str, str]:
    """The link's QR code as PNG (kind "png") or SVG, and its file name."""
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        link = payment_links.get_link(db, _scope(ctx), link_id)
    if kind == "png":
        return payment_links.qr_png(link), f"{link.id}-qr.png"
    return payment_links.qr_svg(link), f"{link.id}-qr.svg"
