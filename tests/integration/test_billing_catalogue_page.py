"""The portal's Products page (backend/services/billing/catalogue_page.py), on SQLite and
PostgreSQL: prices in words and in the merchant's money format, a product created with its
first price in one unit of work, typed amounts in the currency's decimals, archive and
restore, and the permission matrix (owners and admins change; everyone else only reads)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.models import AuditLog
from backend.models.billing import Product
from backend.models.enums import Role
from backend.services.billing import catalogue_page
from backend.services.identity.viewers import Viewer, viewer_of
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.identity_support import member


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client, "Harbour Tea")


def viewer(merchant: Merchant, role: Role = Role.ADMIN) -> Viewer:
    found = viewer_of(member(merchant.merchant_id, role))
    assert found is not None
    return found


def test_a_product_with_its_first_price_then_more_prices_in_words(shop: Merchant):
    admin = viewer(shop)
    product = catalogue_page.create_product(
        admin,
        {
            "name": "Tea club",
            "description": "A box a month",
            "amount": "12.50",
            "currency": "usd",
            "billing": "month",
            "interval_count": "1",
        },
    )
    catalogue_page.add_price(
        admin,
        product.id,
        {
            "amount": "1,500",
            "currency": "JPY",
            "billing": "month",
            "interval_count": "3",
            "nickname": "Quarterly",
        },
    )
    catalogue_page.add_price(
        admin, product.id, {"amount": "2.5", "currency": "KWD", "billing": "one_time"}
    )
    catalogue_page.add_price(
        admin, product.id, {"amount": "100", "currency": "EUR", "billing": "year"}
    )
    page = catalogue_page.page(admin)
    assert page.can_manage and not page.more
    [shown] = page.products
    assert (shown.name, shown.description, shown.active) == ("Tea club", "A box a month", True)
    assert [(p.label, p.nickname) for p in shown.prices] == [
        ("$12.50 every month", ""),
        ("¥1,500 every 3 months", "Quarterly"),
        (format_money(2_500, "KWD") + " one time", ""),  # Babel's "KWD2.500"
        ("€100.00 every year", ""),
    ]
    with session_scope() as db:
        actions = db.exec(
            select(AuditLog.action).where(
                AuditLog.merchant_id == shop.merchant_id, AuditLog.action.startswith("pr")
            )  # type: ignore[attr-defined]
        ).all()
    assert sorted(actions) == ["price.created"] * 4 + ["product.created"]


def test_a_bad_first_price_creates_no_product(shop: Merchant):
    admin = viewer(shop)
    for form, param in [
        ({"name": "Mug", "amount": "12.505", "currency": "USD"}, "amount"),
        ({"name": "Mug", "amount": "12.5", "currency": "JPY"}, "amount"),
        ({"name": "Mug", "amount": "ten", "currency": "USD"}, "amount"),
        (
            {
                "name": "Mug",
                "amount": "10",
                "currency": "USD",
                "billing": "month",
                "interval_count": "13",
            },
            "interval_count",
        ),
        (
            {
                "name": "Mug",
                "amount": "10",
                "currency": "USD",
                "billing": "week",
                "interval_count": "x",
            },
            "interval_count",
        ),
        ({"name": "Mug", "amount": "10", "currency": "USD", "billing": "fortnight"}, "billing"),
        ({"name": "Mug", "amount": "10", "currency": "QQQ"}, "currency"),
        ({"name": "", "amount": "10", "currency": "USD"}, "name"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            catalogue_page.create_product(admin, form)
        assert refused.value.param == param, form
    with pytest.raises(ValidationFailed, match="every 1 to 12 months"):
        catalogue_page.create_product(
            admin, {"name": "Mug", "amount": "1", "billing": "month", "interval_count": "24"}
        )
    with session_scope() as db:
        products = db.exec(select(Product).where(Product.merchant_id == shop.merchant_id)).all()
    assert products == []


def test_archive_and_restore(shop: Merchant):
    admin = viewer(shop)
    product = catalogue_page.create_product(admin, {"name": "Mug", "amount": "9"})
    [price] = catalogue_page.page(admin).products[0].prices
    assert price.label == "$9.00 every month"  # the merchant's default currency and billing
    catalogue_page.set_price_active(admin, price.id, False)
    catalogue_page.set_product_active(admin, product.id, False)
    [shown] = catalogue_page.page(admin).products
    assert not shown.active and not shown.prices[0].active
    with pytest.raises(Conflict) as refused:  # an archived product takes no price
        catalogue_page.add_price(admin, product.id, {"amount": "1"})
    assert refused.value.code == "product_archived"
    catalogue_page.set_product_active(admin, product.id, True)
    catalogue_page.set_price_active(admin, price.id, True)
    [shown] = catalogue_page.page(admin).products
    assert shown.active and shown.prices[0].active


def test_only_owners_and_admins_change_the_catalogue(shop: Merchant):
    owner = viewer(shop, Role.OWNER)
    product = catalogue_page.create_product(owner, {"name": "Mug", "amount": "9"})
    [price] = catalogue_page.page(owner).products[0].prices
    for role in (Role.DEVELOPER, Role.ANALYST, Role.SUPPORT):
        reader = viewer(shop, role)
        page = catalogue_page.page(reader)
        assert [p.name for p in page.products] == ["Mug"] and not page.can_manage
        with pytest.raises(PermissionDenied):
            catalogue_page.create_product(reader, {"name": "Cup", "amount": "1"})
        with pytest.raises(PermissionDenied):
            catalogue_page.add_price(reader, product.id, {"amount": "1"})
        with pytest.raises(PermissionDenied):
            catalogue_page.set_product_active(reader, product.id, False)
        with pytest.raises(PermissionDenied):
            catalogue_page.set_price_active(reader, price.id, False)
    assert catalogue_page.page(owner).products[0].active


def test_another_merchants_or_modes_products_are_not_found(shop: Merchant, client: TestClient):
    admin = viewer(shop)
    product = catalogue_page.create_product(admin, {"name": "Mug", "amount": "9"})
    stranger = viewer(new_merchant(client, "Stranger"))
    live = replace(admin, ctx=replace(admin.ctx, livemode=True))
    for intruder in (stranger, live):
        assert catalogue_page.page(intruder).products == []
        with pytest.raises(NotFound):
            catalogue_page.add_price(intruder, product.id, {"amount": "1"})
        with pytest.raises(NotFound):
            catalogue_page.set_product_active(intruder, product.id, False)
