"""What the portal's Products page does: list the catalogue in words, create a product with its
first price, add a price, archive and restore products and prices.

Each function takes the member's Viewer, checks the permission matrix first (seeing needs
view_data; changing needs manage_catalogue: owners and admins), then opens its own unit of
work and acts through catalogue.py. Money is shown with Babel in the merchant's locale and
intervals in words ("every 3 months"), never as codes. The page's state only calls these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel.dates import format_date

from backend.core.currency import format_money, normalise_currency
from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models.billing import Price, Product
from backend.models.enums import BillingInterval
from backend.services import labels
from backend.services.billing import catalogue
from backend.services.billing.periods import MAX_INTERVAL_COUNT, Recurrence
from backend.services.identity.permissions import Permission
from backend.services.identity.viewers import Viewer
from backend.services.payments.money_input import parse_money
from backend.services.reporting.periods import zone

PAGE_SIZE = 100  # products on the page, newest first
ONE_TIME = "one_time"
# The billing choices of the forms: one-time, or every N of an interval.
BILLING_CHOICES: list[tuple[str, str]] = [
    ("month", "Monthly"),
    ("year", "Yearly"),
    ("week", "Weekly"),
    ("day", "Daily"),
    (ONE_TIME, "One time"),
]


@dataclass(frozen=True)
class PriceView:
    id: str
    product_id: str
    amount: str  # "$15.00", in the merchant's locale
    billing: str  # "every 3 months", "one time"
    label: str  # "$15.00 every 3 months"
    nickname: str
    active: bool


@dataclass(frozen=True)
class ProductView:
    id: str
    name: str
    description: str
    active: bool
    created: str  # a date in the merchant's time zone and locale
    prices: list[PriceView]


@dataclass(frozen=True)
class CataloguePage:
    products: list[ProductView]
    can_manage: bool
    more: bool  # more products than the page shows


def price_view(price: Price, locale: str = "en_US") -> PriceView:
    amount = format_money(price.unit_amount, price.currency, locale)
    billing = labels.recurrence(price.recurring_interval, price.recurring_interval_count)
    return PriceView(
        id=price.id,
        product_id=price.product_id,
        amount=amount,
        billing=billing,
        label=f"{amount} {billing}",
        nickname=price.nickname or "",
        active=price.active,
    )


def page(viewer: Viewer) -> CataloguePage:
    """The newest products of the viewer's merchant and mode, each with its prices."""
    viewer.require(Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        products, next_cursor = catalogue.list_products(db, viewer.scope, limit=PAGE_SIZE)
        prices = catalogue.prices_of(db, viewer.scope, [p.id for p in products])
    tz = zone(viewer.timezone)
    views = [
        ProductView(
            id=p.id,
            name=p.name,
            description=p.description or "",
            active=p.active,
            created=format_date(p.created_at.astimezone(tz), "medium", locale=viewer.locale),
            prices=[price_view(price, viewer.locale) for price in prices[p.id]],
        )
        for p in products
    ]
    return CataloguePage(views, viewer.can(Permission.MANAGE_CATALOGUE), next_cursor is not None)


def create_product(viewer: Viewer, form: Mapping[str, object], ip: str | None = None) -> Product:
    """A product and its first price, from the form as typed, in one unit of work: name,
    description, amount, currency, billing (one of BILLING_CHOICES) and interval count."""
    viewer.require(Permission.MANAGE_CATALOGUE)
    price = _price_input(viewer, form)
    actor = viewer.actor(ip)
    with session_scope() as db:
        product = catalogue.create_product(
            db,
            viewer.scope,
            name=str(form.get("name", "")),
            description=str(form.get("description", "")) or None,
            actor=actor,
        )
        db.flush()
        catalogue.create_price(db, viewer.scope, product_id=product.id, actor=actor, **price)
    return product


def add_price(
    viewer: Viewer, product_id: str, form: Mapping[str, object], ip: str | None = None
) -> Price:
    viewer.require(Permission.MANAGE_CATALOGUE)
    price = _price_input(viewer, form)
    with session_scope() as db:
        return catalogue.create_price(
            db, viewer.scope, product_id=product_id, actor=viewer.actor(ip), **price
        )


def set_product_active(
    viewer: Viewer, product_id: str, active: bool, ip: str | None = None
) -> Product:
    """Archive (active False) or restore a product."""
    viewer.require(Permission.MANAGE_CATALOGUE)
    with session_scope() as db:
        return catalogue.update_product(
            db, viewer.scope, product_id, active=bool(active), actor=viewer.actor(ip)
        )


def set_price_active(viewer: Viewer, price_id: str, active: bool, ip: str | None = None) -> Price:
    """Archive (active False) or restore a price."""
    viewer.require(Permission.MANAGE_CATALOGUE)
    with session_scope() as db:
        return catalogue.update_price(
            db, viewer.scope, price_id, active=bool(active), actor=viewer.actor(ip)
        )


def _price_input(viewer: Viewer, form: Mapping[str, object]) -> dict[str, object]:
    """create_price's arguments from a form: the amount as the merchant's locale writes it."""
    currency = normalise_currency(str(form.get("currency") or viewer.default_currency))
    amount = parse_money(
        str(form.get("amount", "")), currency, viewer.locale, param="amount", minimum=0
    )
    billing = str(form.get("billing") or "month")
    recurring = None
    if billing != ONE_TIME:
        if billing not in MAX_INTERVAL_COUNT:
            raise ValidationFailed("Choose how often the price bills", param="billing")
        top = MAX_INTERVAL_COUNT[BillingInterval(billing)]
        count_text = str(form.get("interval_count") or "1").strip()
        if not count_text.isdigit() or not 1 <= int(count_text) <= top:
            many = labels.BILLING_INTERVALS[billing][1]
            raise ValidationFailed(
                f"A price bills at least once a year: every 1 to {top} {many}",
                param="interval_count",
            )
        recurring = Recurrence(BillingInterval(billing), int(count_text))
    nickname = str(form.get("nickname", "")).strip() or None
    return {
        "unit_amount": amount,
        "currency": currency,
        "recurring": recurring,
        "nickname": nickname,
    }
