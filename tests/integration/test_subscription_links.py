"""A payment link that sells a recurring price, on SQLite and PostgreSQL: paying it saves the
card and subscribes the customer, the first period paid by the checkout's own payment (one
charge, not two); the subscription renews on the saved card; a 3-D Secure card subscribes once
the challenge is passed; a one-time or unknown price cannot back such a link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import Payment
from backend.models.billing import Subscription
from backend.models.types import utcnow
from backend.services.billing import engine
from backend.services.checkout import paying, payment_links
from backend.services.context import Scope
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.billing_support import invoices_of, ok, plan


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client, "Tea Club")


def link_for(shop: Merchant, price_id: str, max_quantity: int = 3) -> str:
    with session_scope() as db:
        link = payment_links.create_link(
            db,
            Scope(shop.merchant_id, False),
            name="Tea club",
            currency="EUR",  # the price's currency wins
            unit_amount=1,
            max_quantity=max_quantity,
            price_id=price_id,
        )
        assert (link.currency, link.unit_amount) == ("USD", 1_500)
        return link.id


def visit_and_pay(link_id: str, token: str, quantity: int = 1) -> paying.PayResult:
    with session_scope() as db:
        session = payment_links.start_session(db, link_id, quantity=quantity)
        assert session.save_payment_method
        session_id = session.id
    with session_scope() as db:
        # The checkbox is not ticked: subscribing is the consent, and the card is kept.
        return paying.pay(db, session_id, token=token, customer_email="ada@example.com")


def subscriptions_of(shop: Merchant) -> list[Subscription]:
    with session_scope(readonly=True) as db:
        return list(
            db.exec(select(Subscription).where(Subscription.merchant_id == shop.merchant_id))
        )


def payments_of(shop: Merchant) -> int:
    with session_scope(readonly=True) as db:
        query = select(func.count()).where(
            Payment.merchant_id == shop.merchant_id, Payment.status == "succeeded"
        )
        return db.exec(query).one()


def test_paying_the_link_subscribes_with_the_saved_card(shop: Merchant) -> None:
    link = link_for(shop, plan(shop))
    result = visit_and_pay(link, "4242424242424242", quantity=2)
    assert result.status == "complete"

    [sub] = subscriptions_of(shop)
    assert sub.status == "active" and sub.default_payment_method_id
    found = ok(shop.get(f"/api/subscriptions/{sub.id}"))["subscription"]
    assert found["items"][0]["quantity"] == 2
    [first] = invoices_of(shop, sub.id)
    assert (first["status"], first["amountPaidCents"]) == ("paid", 3_000)
    assert first["paymentId"] == result.payment.id  # the checkout's payment, not a new one
    assert payments_of(shop) == 1

    # A month later the saved card pays the renewal, off session, through the engine.
    engine.run_due(utcnow() + timedelta(days=32))
    renewal = invoices_of(shop, sub.id)[-1]
    assert (renewal["billingReason"], renewal["status"]) == ("subscription_cycle", "paid")
    assert payments_of(shop) == 2


def test_a_card_that_needs_authentication_subscribes_after_the_challenge(shop: Merchant) -> None:
    link = link_for(shop, plan(shop))
    waiting = visit_and_pay(link, "4000002760003184")
    assert waiting.status == "requires_action"
    assert subscriptions_of(shop) == []
    with session_scope() as db:
        done = paying.finish_action(db, waiting.session.id, approved=True)
    assert done.status == "complete"
    [sub] = subscriptions_of(shop)
    assert sub.status == "active"
    assert [i["status"] for i in invoices_of(shop, sub.id)] == ["paid"]
    assert payments_of(shop) == 1


def test_a_declined_card_subscribes_nobody(shop: Merchant) -> None:
    link = link_for(shop, plan(shop))
    declined = visit_and_pay(link, "4000000000000002")
    assert declined.status == "declined"
    assert subscriptions_of(shop) == []


def test_only_a_recurring_price_of_the_merchant_backs_a_link(
    client: TestClient, shop: Merchant
) -> None:
    product = ok(shop.post("/api/products", {"name": "Tin"}), 201)["product"]["id"]
    body = {"productId": product, "unitAmountCents": 900, "currency": "USD"}
    one_time = ok(shop.post("/api/prices", body), 201)["price"]["id"]
    other = new_merchant(client, "Other")
    theirs = plan(other)
    with session_scope() as db:
        scope = Scope(shop.merchant_id, False)
        with pytest.raises(ValidationFailed):
            payment_links.create_link(db, scope, name="x", currency="USD", price_id=one_time)
        with pytest.raises(NotFound):
            payment_links.create_link(db, scope, name="x", currency="USD", price_id=theirs)
