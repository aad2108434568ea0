"""The catalogue: a merchant's products and their prices, one-time or recurring.

A price is immutable once created, as Stripe's: its amount, currency, type and interval never
change (a new amount is a new price, and what was sold keeps its price); only `active`,
`nickname` and metadata do. Products and prices are archived (`active` false) rather than
deleted. An archived price or a price of an archived product sells nothing new
(`billable_price` refuses it) but keeps billing what already uses it.

Every function takes the caller's Scope: another merchant's or mode's id is not found (404).
Changes write an audit row in the caller's transaction.

What the billing engine uses: `billable_price(db, scope, price_id, recurring=True)` when a
subscription or invoice item takes a price, `recurrence(price)` for its periods, and
`get_price` / `get_product` to read them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from backend.core.currency import exponent, normalise_currency
from backend.core.errors import Conflict, ValidationFailed
from backend.core.ids import new_id
from backend.models.billing import Price, Product
from backend.models.enums import BillingInterval, PriceType
from backend.models.types import utcnow
from backend.services import audit
from backend.services.billing.periods import Recurrence
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.paging import keyset_page
from backend.services.payments.orders import MAX_AMOUNT, owned, validate_metadata

NAME_MAX = 250
DESCRIPTION_MAX = 1000
NICKNAME_MAX = 250


# --- products -----------------------------------------------------------------------------------


def create_product(
    db: Session,
    scope: Scope,
    *,
    name: object,
    description: object = None,
    active: object = True,
    metadata: object = None,
    actor: Actor = SYSTEM,
) -> Product:
    product = Product(
        id=new_id("prod"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        name=_text(name, "name", NAME_MAX, required=True),
        description=_text(description, "description", DESCRIPTION_MAX),
        active=_flag(active, "active"),
        metadata_=validate_metadata(metadata),
    )
    db.add(product)
    audit.record_by(db, actor, "product.created", product, "product", {"name": product.name})
    return product


def update_product(
    db: Session,
    scope: Scope,
    product_id: str,
    *,
    name: object = None,
    description: object = None,
    active: object = None,
    metadata: object = None,
    actor: Actor = SYSTEM,
) -> Product:
    """Change what is given (None: unchanged). An empty description removes it; metadata is
    merged key by key, and a key given an empty string is removed (as Stripe does)."""
    product = get_product(db, scope, product_id, lock=True)
    changed: dict[str, Any] = {}
    if name is not None:
        changed["name"] = _text(name, "name", NAME_MAX, required=True)
    if description is not None:
        changed["description"] = _text(description, "description", DESCRIPTION_MAX) or None
    if active is not None:
        changed["active"] = _flag(active, "active")
    if metadata is not None:
        changed["metadata_"] = _merged_metadata(product.metadata_, metadata)
    _apply(db, actor, product, "product", changed)
    return product


def get_product(db: Session, scope: Scope, product_id: str, *, lock: bool = False) -> Product:
    return owned(db, Product, scope, product_id, param="productId", lock=lock)  # type: ignore[type-var]


def list_products(
    db: Session,
    scope: Scope,
    *,
    active: bool | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Product], str | None]:
    """One page of the merchant's products, newest first, and the next page's cursor."""
    query = select(Product).where(
        Product.merchant_id == scope.merchant_id, Product.livemode == scope.livemode
    )
    if active is not None:
        query = query.where(Product.active == _flag(active, "active"))
    return keyset_page(db, scope, Product, query, limit, cursor)


# --- prices -------------------------------------------------------------------------------------


def create_price(
    db: Session,
    scope: Scope,
    *,
    product_id: object,
    unit_amount: object,
    currency: object,
    recurring: Recurrence | None = None,
    nickname: object = None,
    metadata: object = None,
    active: object = True,
    actor: Actor = SYSTEM,
) -> Price:
    """A new price of one of the merchant's active products. `recurring` (see
    `Recurrence.parse` for an API caller's values) makes it bill every interval; without it the
    price is one-time. unit_amount is in the currency's minor unit, from 0 (free) up to the
    largest payment (orders.MAX_AMOUNT): a price has to be chargeable."""
    if not isinstance(product_id, str) or not product_id:
        raise ValidationFailed("productId must be a product's id", param="productId")
    product = get_product(db, scope, product_id)
    if not product.active:
        raise Conflict(
            f"Product {product.id} is archived: make it active again before adding a price",
            code="product_archived",
            param="productId",
        )
    upper = normalise_currency(currency)
    if isinstance(unit_amount, bool) or not isinstance(unit_amount, int):
        raise ValidationFailed(
            "unitAmountCents must be a whole number of the currency's minor unit "
            f"({upper}: {_minor_unit_words(upper)})",
            param="unitAmountCents",
        )
    if not 0 <= unit_amount <= MAX_AMOUNT:
        raise ValidationFailed(
            f"unitAmountCents must be from 0 to {MAX_AMOUNT}",
            code="amount_out_of_range",
            param="unitAmountCents",
        )
    if recurring is not None and not isinstance(recurring, Recurrence):
        raise TypeError("recurring must be a Recurrence (see Recurrence.parse)")
    price = Price(
        id=new_id("price"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        product_id=product.id,
        unit_amount=unit_amount,
        currency=upper,
        type=PriceType.RECURRING if recurring else PriceType.ONE_TIME,
        recurring_interval=recurring.interval if recurring else None,
        recurring_interval_count=recurring.count if recurring else None,
        active=_flag(active, "active"),
        nickname=_text(nickname, "nickname", NICKNAME_MAX),
        metadata_=validate_metadata(metadata),
    )
    db.add(price)
    details = {"product": product.id, "amount": unit_amount, "currency": upper}
    audit.record_by(db, actor, "price.created", price, "price", details)
    return price


def update_price(
    db: Session,
    scope: Scope,
    price_id: str,
    *,
    active: object = None,
    nickname: object = None,
    metadata: object = None,
    actor: Actor = SYSTEM,
) -> Price:
    """Change what a price lets change: active, nickname (empty removes it), metadata (merged,
    as update_product's). Its amount, currency and interval never change."""
    price = get_price(db, scope, price_id, lock=True)
    changed: dict[str, Any] = {}
    if active is not None:
        changed["active"] = _flag(active, "active")
    if nickname is not None:
        changed["nickname"] = _text(nickname, "nickname", NICKNAME_MAX) or None
    if metadata is not None:
        changed["metadata_"] = _merged_metadata(price.metadata_, metadata)
    _apply(db, actor, price, "price", changed)
    return price


def get_price(db: Session, scope: Scope, price_id: str, *, lock: bool = False) -> Price:
    return owned(db, Price, scope, price_id, param="priceId", lock=lock)  # type: ignore[type-var]


def list_prices(
    db: Session,
    scope: Scope,
    *,
    product_id: str | None = None,
    active: bool | None = None,
    type: str | None = None,
    currency: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Price], str | None]:
    """One page of the merchant's prices, newest first, optionally of one product, active or
    archived, of one type or currency."""
    query = select(Price).where(
        Price.merchant_id == scope.merchant_id, Price.livemode == scope.livemode
    )
    if product_id is not None:
        query = query.where(Price.product_id == product_id)
    if active is not None:
        query = query.where(Price.active == _flag(active, "active"))
    if type is not None:
        if type not in set(PriceType):
            raise ValidationFailed(f"type must be one of: {', '.join(PriceType)}", param="type")
        query = query.where(Price.type == type)
    if currency is not None:
        query = query.where(Price.currency == normalise_currency(currency))
    return keyset_page(db, scope, Price, query, limit, cursor)


def prices_of(db: Session, scope: Scope, product_ids: list[str]) -> dict[str, list[Price]]:
    """Every price of these products (the merchant's own), oldest first, by product id."""
    found: dict[str, list[Price]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return found
    rows = db.exec(
        select(Price)
        .where(
            Price.merchant_id == scope.merchant_id,
            Price.livemode == scope.livemode,
            col(Price.product_id).in_(product_ids),
        )
        .order_by(col(Price.created_at), col(Price.id))
    )
    for price in rows:
        found[price.product_id].append(price)
    return found


def recurrence(price: Price) -> Recurrence | None:
    """How often a recurring price bills; None for a one-time price."""
    if price.type != PriceType.RECURRING:
        return None
    assert price.recurring_interval is not None and price.recurring_interval_count is not None
    return Recurrence(BillingInterval(price.recurring_interval), price.recurring_interval_count)


def billable_price(
    db: Session, scope: Scope, price_id: object, *, recurring: bool | None = None
) -> Price:
    """A price that may be sold now: the merchant's, active, of an active product, and
    recurring (recurring=True) or one-time (False) when the caller needs one kind.

    Refusals: 404 unknown id, 409 price_inactive / product_archived, 422 wrong type."""
    if not isinstance(price_id, str) or not price_id:
        raise ValidationFailed("priceId must be a price's id", param="priceId")
    price = get_price(db, scope, price_id)
    if not price.active:
        raise Conflict(f"Price {price.id} is archived", code="price_inactive", param="priceId")
    if not get_product(db, scope, price.product_id).active:
        raise Conflict(
            f"The product of price {price.id} is archived",
            code="product_archived",
            param="priceId",
        )
    if recurring is not None and (price.type == PriceType.RECURRING) != recurring:
        wanted = "a recurring" if recurring else "a one-time"
        raise ValidationFailed(
            f"Price {price.id} is {price.type.replace('_', '-')}: {wanted} price is needed",
            code="price_type_mismatch",
            param="priceId",
        )
    return price


# --- helpers ------------------------------------------------------------------------------------


def _apply(db: Session, actor: Actor, row: Product | Price, kind: str, changed: dict) -> None:  # type: ignore[type-arg]
    """Set what changed, stamp updated_at and audit it (nothing when nothing changed)."""
    changed = {k: v for k, v in changed.items() if getattr(row, k) != v}
    if not changed:
        return
    for field_name, value in changed.items():
        setattr(row, field_name, value)
    row.updated_at = utcnow()
    db.add(row)
    fields = sorted(k.rstrip("_") for k in changed)
    audit.record_by(db, actor, f"{kind}.updated", row, kind, {"changed": fields})


def _text(value: object, param: str, limit: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{param} must be text", param=param)
    text = value.strip()
    if required and not text:
        raise ValidationFailed(f"{param} must not be empty", param=param)
    if len(text) > limit:
        raise ValidationFailed(f"{param} takes at most {limit} characters", param=param)
    return text or None


def _flag(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{param} must be true or false", param=param)
    return value


def _merged_metadata(current: dict[str, Any], change: object) -> dict[str, str]:
    """Stripe's metadata update: given keys are set, a key set to "" is removed."""
    update = validate_metadata(change)
    merged = {**current, **update}
    merged = {k: v for k, v in merged.items() if v != ""}
    return validate_metadata(merged)


def _minor_unit_words(currency: str) -> str:
    digits = exponent(currency)
    return "no decimals" if digits == 0 else f"1/{10**digits} of a unit"
