"""A merchant's customers: create, update, soft delete, find, search.

Every function takes the caller's scope (merchant and mode): another merchant's customer, or the
other mode's, is not found (404). A deleted customer is kept for the history of its payments
(`deleted_at`) but is gone for everyone else: lists, search, reads and changes answer as if it
never existed, and a payment carrying its e-mail starts a new customer. Each change writes its
audit row and its outbox event (`customer.created`, `customer.updated`, `customer.deleted`) in
the caller's transaction.

Update semantics: a field left out (UNSET) stays as it is; None clears it (name, phone,
address); `metadata` replaces the whole metadata. The default payment method is set through
`payment_methods.set_default`, which `update_customer` calls when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.models import Customer, utcnow
from backend.services import events
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.paging import keyset_page
from backend.services.payments.orders import validate_metadata
from backend.services.representations import customer_to_dict


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()  # a field the update leaves as it is

NAME_LENGTH = 200
PHONE_LENGTH = 32
SEARCH_LENGTH = 200


@dataclass(frozen=True)
class Address:
    """A postal address; `country` is ISO 3166-1 alpha-2 (stored upper case)."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


# Address field -> (Customer column, longest length, API name for errors).
_ADDRESS_FIELDS = {
    "line1": ("address_line1", 200, "address.line1"),
    "line2": ("address_line2", 200, "address.line2"),
    "city": ("address_city", 100, "address.city"),
    "state": ("address_state", 100, "address.state"),
    "postal_code": ("address_postal_code", 20, "address.postalCode"),
}


def address_of(customer: Customer) -> Address | None:
    """The customer's address, or None when no part of it is known."""
    address = Address(
        line1=customer.address_line1,
        line2=customer.address_line2,
        city=customer.address_city,
        state=customer.address_state,
        postal_code=customer.address_postal_code,
        country=customer.country,
    )
    return None if address == Address() else address


def _text(value: object, param: str, longest: int) -> str | None:
    """Optional free text: a string of at most `longest` characters; blank means none."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > longest:
        raise ValidationFailed(f"{param} must be text of at most {longest} characters", param=param)
    return value.strip() or None


def _country(value: object) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha()):
        raise ValidationFailed(
            "address.country must be a two-letter ISO 3166 country code", param="address.country"
        )
    return value.upper()


def _set_address(customer: Customer, address: Address | None) -> None:
    address = address or Address()
    for field, (column, longest, param) in _ADDRESS_FIELDS.items():
        setattr(customer, column, _text(getattr(address, field), param, longest))
    customer.country = _country(address.country)


def _email(value: object) -> str:
    from backend.services.identity.accounts import normalise_email

    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("email is required", param="email")
    return normalise_email(value, param="email")


def record_change(db: Session, customer: Customer, type: str, actor: Actor) -> None:
    """The audit row and the outbox event of a change to a customer."""
    events.changed(db, actor, type, customer, "customer", customer_to_dict(customer))


def create_customer(
    db: Session,
    scope: Scope,
    *,
    email: object,
    name: object = None,
    phone: object = None,
    address: Address | None = None,
    metadata: object = None,
    test_clock: object = None,
    actor: Actor = SYSTEM,
) -> Customer:
    """A new customer; `test_clock` (a test clock's id, test mode only) makes it live at that
    clock's time, with its subscriptions."""
    now = utcnow()
    customer = Customer(
        id=new_id("cus"),
        merchant_id=scope.merchant_id,
        livemode=scope.livemode,
        email=_email(email),
        name=_text(name, "name", NAME_LENGTH),
        phone=_text(phone, "phone", PHONE_LENGTH),
        metadata_=validate_metadata(metadata),
        created_at=now,
        updated_at=now,
    )
    _set_address(customer, address)
    if test_clock is not None:
        from backend.services.billing import clock

        if not isinstance(test_clock, str):
            raise ValidationFailed("testClock must be a test clock's id", param="testClock")
        customer.test_clock_id = clock.get_clock(db, scope, test_clock).id
    db.add(customer)
    db.flush()
    record_change(db, customer, "customer.created", actor)
    return customer


def update_customer(
    db: Session,
    scope: Scope,
    customer_id: str,
    *,
    email: object = UNSET,
    name: object = UNSET,
    phone: object = UNSET,
    address: Address | _Unset | None = UNSET,
    metadata: object = UNSET,
    default_payment_method: str | _Unset | None = UNSET,
    actor: Actor = SYSTEM,
) -> Customer:
    customer = get_customer(db, scope, customer_id, lock=True)
    if email is not UNSET:
        customer.email = _email(email)
    if name is not UNSET:
        customer.name = _text(name, "name", NAME_LENGTH)
    if phone is not UNSET:
        customer.phone = _text(phone, "phone", PHONE_LENGTH)
    if not isinstance(address, _Unset):
        _set_address(customer, address)
    if metadata is not UNSET:
        customer.metadata_ = validate_metadata(metadata)
    if not isinstance(default_payment_method, _Unset):
        from backend.services.customers import payment_methods

        payment_methods.set_default(db, customer, default_payment_method)
    customer.updated_at = utcnow()
    db.add(customer)
    db.flush()
    record_change(db, customer, "customer.updated", actor)
    return customer


def delete_customer(
    db: Session, scope: Scope, customer_id: str, *, actor: Actor = SYSTEM
) -> Customer:
    """Soft delete: the customer's subscriptions end, its saved cards are detached (none can be
    charged again) and the customer leaves every list and read; its payments keep pointing at
    it."""
    from backend.services.billing import subscriptions
    from backend.services.customers import payment_methods

    customer = get_customer(db, scope, customer_id, lock=True)
    subscriptions.end_all_of(db, customer, actor=actor)
    payment_methods.detach_all(db, customer, actor=actor)
    now = utcnow()
    customer.deleted_at = customer.updated_at = now
    customer.default_payment_method_id = None
    db.add(customer)
    db.flush()
    record_change(db, customer, "customer.deleted", actor)
    return customer


def customers_on_clock(db: Session, scope: Scope, test_clock_id: str) -> list[Customer]:
    """The customers living on a test clock (not deleted)."""
    query = select(Customer).where(
        Customer.merchant_id == scope.merchant_id,
        Customer.livemode == scope.livemode,
        Customer.test_clock_id == test_clock_id,
        col(Customer.deleted_at).is_(None),
    )
    return list(db.exec(query).all())


def get_customer(db: Session, scope: Scope, customer_id: str, *, lock: bool = False) -> Customer:
    """A customer of this merchant and mode that is not deleted; anything else is not found."""
    query = select(Customer).where(
        Customer.id == customer_id,
        Customer.merchant_id == scope.merchant_id,
        Customer.livemode == scope.livemode,
        col(Customer.deleted_at).is_(None),
    )
    if lock:
        query = query.with_for_update()
    found = db.exec(query).first()
    if found is None:
        raise NotFound(f"No such customer: {customer_id!r}", param="customerId")
    return found


def search_customers(
    db: Session,
    scope: Scope,
    *,
    query: str = "",
    email: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Customer], str | None]:
    """Customers newest first (keyset pages, `cursor` the last id of the page before).

    `query` matches the start of an e-mail or a name (any case), or a whole id; `email` is an
    exact e-mail. Deleted customers are never listed."""
    statement = select(Customer).where(
        Customer.merchant_id == scope.merchant_id,
        Customer.livemode == scope.livemode,
        col(Customer.deleted_at).is_(None),
    )
    if email is not None:
        statement = statement.where(Customer.email == _email(email))
    text = (query or "").strip()[:SEARCH_LENGTH]
    if text:
        pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(
            or_(
                col(Customer.email).like(pattern + "%", escape="\\"),
                func.lower(Customer.name).like(pattern + "%", escape="\\"),
                Customer.id == text,
            )
        )
    return keyset_page(db, scope, Customer, statement, limit, cursor)


def customer_fields(customer: Customer) -> dict[str, Any]:
    """What the portal's edit form starts from."""
    address = address_of(customer) or Address()
    return {
        "email": customer.email or "",
        "name": customer.name or "",
        "phone": customer.phone or "",
        "line1": address.line1 or "",
        "line2": address.line2 or "",
        "city": address.city or "",
        "state": address.state or "",
        "postal_code": address.postal_code or "",
        "country": address.country or "",
    }
