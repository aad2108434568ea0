"""The portal's payment links page for subscription links (backend/services/checkout/link_pages):
the recurring prices offered in words, a subscription link made and edited (it keeps its
price), the list's wording, permissions, another merchant's price refused; and what the
customer's pages read for such a link (customer_actions: the terms, a price archived since)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.models.enums import Role
from backend.services.checkout import customer_actions, link_pages
from backend.services.checkout.i18n import every
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.billing_support import ok, plan
from tests.integration.identity_support import member


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client, "Tea Club")


def one_time(shop: Merchant) -> str:
    product = ok(shop.post("/api/products", {"name": "Tin"}), 201)["product"]["id"]
    body = {"productId": product, "unitAmountCents": 900, "currency": "USD"}
    return ok(shop.post("/api/prices", body), 201)["price"]["id"]


def subscription_form(price_id: str, **extra: str) -> dict[str, str]:
    return {"name": "Tea club", "description": "", "price_id": price_id, **extra}


def test_the_choices_are_the_active_recurring_prices_in_words(shop: Merchant) -> None:
    owner = member(shop.merchant_id, Role.OWNER)
    assert link_pages.subscription_prices(owner) == []  # the page then points to Products
    monthly = plan(shop)
    quarterly = plan(shop, amount=4_000, count=3)
    yearly = plan(shop, amount=12_000, interval="year")
    one_time(shop)
    ok(shop.post(f"/api/prices/{yearly}", {"active": False}))
    choices = link_pages.subscription_prices(owner)
    assert [(c.id, c.label) for c in choices] == [
        (quarterly, "Pro plan — $40.00 every 3 months"),
        (monthly, "Pro plan — $15.00 every month"),
    ]
    # An analyst reads them too (the page lists them), but may not make a link.
    analyst = member(shop.merchant_id, Role.ANALYST)
    assert len(link_pages.subscription_prices(analyst)) == 2
    with pytest.raises(PermissionDenied):
        link_pages.save_link(analyst, "", subscription_form(monthly), pricing="subscription")


def test_a_subscription_link_is_made_listed_and_keeps_its_price(shop: Merchant) -> None:
    owner = member(shop.merchant_id, Role.OWNER)
    price = plan(shop)
    link = link_pages.save_link(
        owner, "", subscription_form(price, max_quantity="3"), pricing="subscription"
    )
    assert (link.price_id, link.currency, link.unit_amount, link.max_quantity) == (
        price,
        "USD",
        1_500,
        3,
    )
    fixed = link_pages.save_link(
        owner, "", {"name": "Mug", "currency": "USD", "unit_amount": "12"}, pricing="fixed"
    )
    rows = {row.id: row for row in link_pages.link_rows(owner)}
    assert rows[link.id].price == "Subscription · $15.00 every month, up to 3 at once"
    assert rows[link.id].pricing == "subscription"
    assert (rows[fixed.id].price, rows[fixed.id].pricing) == ("$12.00", "fixed")
    assert link_pages.link_price(owner, link) == "Pro plan — $15.00 every month"

    # Edited as another kind, with another price, amount or currency typed: it keeps its price.
    other_price = plan(shop, amount=2_000)
    edited = link_pages.save_link(
        owner,
        link.id,
        {
            "name": "Tea club monthly",
            "price_id": other_price,
            "unit_amount": "1.00",
            "currency": "EUR",
            "max_quantity": "1",
        },
        pricing="fixed",
    )
    assert (edited.name, edited.price_id, edited.unit_amount, edited.currency) == (
        "Tea club monthly",
        price,
        1_500,
        "USD",
    )
    assert edited.max_quantity == 1

    # The price archived since: the link can still be renamed, but sells nothing new.
    ok(shop.post(f"/api/prices/{price}", {"active": False}))
    renamed = link_pages.save_link(owner, link.id, {"name": "Tea club (old)"}, pricing="fixed")
    assert renamed.price_id == price
    view = customer_actions.open_link(link.id)
    assert not view.open and view.terms is not None
    with pytest.raises(ValidationFailed) as refused:
        customer_actions.start_link(link.id, amount=None, quantity=1, ip_address=None)
    assert refused.value.code == "link_inactive"

    # A link of another kind does not become a subscription.
    with pytest.raises(ValidationFailed) as kept:
        link_pages.save_link(
            owner, fixed.id, subscription_form(other_price), pricing="subscription"
        )
    assert kept.value.param == "pricing"


def test_bad_choices_are_refused_in_words(client: TestClient, shop: Merchant) -> None:
    owner = member(shop.merchant_id, Role.OWNER)
    theirs = plan(new_merchant(client, "Other"))
    archived = plan(shop)
    ok(shop.post(f"/api/prices/{archived}", {"active": False}))
    cases: list[tuple[dict[str, str], type[Exception], str]] = [
        (subscription_form(""), ValidationFailed, "Choose the recurring price this link sells"),
        (subscription_form(theirs), NotFound, "That price is not one of yours"),
        (subscription_form("price_nothing"), NotFound, "That price is not one of yours"),
        (subscription_form(one_time(shop)), ValidationFailed, "That price is charged once"),
        (subscription_form(archived), ValidationFailed, "That price or its product is archived"),
        (
            subscription_form(plan(shop), max_quantity="many"),
            ValidationFailed,
            "The quantity limit must be a whole number",
        ),
        (
            subscription_form(plan(shop), max_quantity="500"),
            ValidationFailed,
            "The quantity limit must be between 1 and 99",
        ),
        (subscription_form(plan(shop), name=""), ValidationFailed, "Give the link a name"),
    ]
    for form, error, words in cases:
        with pytest.raises(error) as refused:
            link_pages.save_link(owner, "", form, pricing="subscription")
        assert refused.value.message.startswith(words), refused.value.message
        assert "price_" not in refused.value.message
    with pytest.raises(ValidationFailed):
        link_pages.save_link(owner, "", subscription_form(archived), pricing="weekly")
    assert link_pages.link_rows(owner) == []


def test_the_customer_pages_read_the_terms(shop: Merchant) -> None:
    owner = member(shop.merchant_id, Role.OWNER)
    link = link_pages.save_link(
        owner, "", subscription_form(plan(shop, amount=4_000, count=3)), pricing="subscription"
    )
    view = customer_actions.open_link(link.id)
    assert view.open and view.terms is not None
    assert (view.terms.interval, view.terms.count) == ("month", 3)
    session_id = customer_actions.start_link(link.id, amount=None, quantity=1, ip_address=None)
    first = customer_actions.open_for_first_paint(session_id)
    assert first is not None and first.terms == view.terms
    opened = customer_actions.open_session(session_id, locale="de_DE", time_zone="UTC")
    assert opened.terms == view.terms
    assert every("40,00 €", "month", 3, "de_DE") == "40,00 € alle 3 Monate"
    assert every("$15.00", "month", 1, "en_US") == "$15.00 every month"
    assert every("15,00 €", "week", 2, "fr_FR") == "15,00 € toutes les 2 semaines"
