"""What a signed-in member does from the portal's Customers pages: list and search, one
customer's page, create, edit, delete, remove a saved card, choose the default card.

Each function checks the member's permission first (seeing: VIEW_DATA; changing:
MANAGE_CUSTOMERS), then opens its own unit of work and calls records or payment_methods, the
same functions the REST API calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.models import Customer, Payment
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.customers import figures, payment_methods, records
from backend.services.identity.permissions import Permission, can, require
from backend.services.identity.sessions import SessionContext
from backend.services.reporting import payment_list


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _actor(ctx: SessionContext, ip_address: str | None) -> Actor:
    return Actor(ActorType.USER, ctx.user_id, ip_address or None)


def customer_list(
    ctx: SessionContext, *, query: str, cursor: str | None, limit: int
) -> figures.CustomerPage:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        return figures.list_customers(
            db,
            merchant_id=ctx.merchant_id,
            livemode=ctx.livemode,
            query=query,
            cursor=cursor,
            limit=limit,
        )


@dataclass(frozen=True)
class CustomerPageData:
    detail: figures.CustomerDetail
    payments: list[Payment]
    more_payments: bool
    can_manage: bool


def customer_page(ctx: SessionContext, customer_id: str, *, limit: int = 25) -> CustomerPageData:
    require(ctx.role, Permission.VIEW_DATA)
    with session_scope(readonly=True) as db:
        detail = figures.get_customer(
            db, merchant_id=ctx.merchant_id, livemode=ctx.livemode, customer_id=customer_id
        )
        page = payment_list.search_payments(
            db,
            merchant_id=ctx.merchant_id,
            livemode=ctx.livemode,
            filters=payment_list.PaymentFilters(customer_id=customer_id),
            limit=limit,
        )
    return CustomerPageData(
        detail,
        list(page.payments),
        page.next_cursor is not None,
        can(ctx.role, Permission.MANAGE_CUSTOMERS),
    )


@dataclass(frozen=True)
class CustomerForm:
    """What the portal's customer form sends: text fields, blank for none."""

    email: str
    name: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""

    def address(self) -> records.Address | None:
        address = records.Address(
            line1=self.line1.strip() or None,
            line2=self.line2.strip() or None,
            city=self.city.strip() or None,
            state=self.state.strip() or None,
            postal_code=self.postal_code.strip() or None,
            country=self.country.strip() or None,
        )
        return None if address == records.Address() else address


def create_customer(ctx: SessionContext, form: CustomerForm, *, ip_address: str | None) -> Customer:
    require(ctx.role, Permission.MANAGE_CUSTOMERS)
    with session_scope() as db:
        return records.create_customer(
            db,
            _scope(ctx),
            email=form.email,
            name=form.name,
            phone=form.phone,
            address=form.address(),
            actor=_actor(ctx, ip_address),
        )


def update_customer(
    ctx: SessionContext, customer_id: str, form: CustomerForm, *, ip_address: str | None
) -> Customer:
    require(ctx.role, Permission.MANAGE_CUSTOMERS)
    with session_scope() as db:
        return records.update_customer(
            db,
            _scope(ctx),
            customer_id,
            email=form.email,
            name=form.name,
            phone=form.phone,
            address=form.address(),
            actor=_actor(ctx, ip_address),
        )


def delete_customer(ctx: SessionContext, customer_id: str, *, ip_address: str | None) -> None:
    require(ctx.role, Permission.MANAGE_CUSTOMERS)
    with session_scope() as db:
        records.delete_customer(db, _scope(ctx), customer_id, actor=_actor(ctx, ip_address))


def remove_card(
    ctx: SessionContext, customer_id: str, payment_method_id: str, *, ip_address: str | None
) -> None:
    require(ctx.role, Permission.MANAGE_CUSTOMERS)
    with session_scope() as db:
        payment_methods.detach(
            db, _scope(ctx), customer_id, payment_method_id, actor=_actor(ctx, ip_address)
        )


def make_default(
    ctx: SessionContext, customer_id: str, payment_method_id: str, *, ip_address: str | None
) -> None:
    require(ctx.role, Permission.MANAGE_CUSTOMERS)
    with session_scope() as db:
        records.update_customer(
            db,
            _scope(ctx),
            customer_id,
            default_payment_method=payment_method_id,
            actor=_actor(ctx, ip_address),
        )
