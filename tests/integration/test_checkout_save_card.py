""" "Save for future payments" on the hosted checkout, on SQLite and PostgreSQL: a session
created with savePaymentMethod offers it; a customer who ticks it has the card saved for them
(the session's customer, or one found or made from the e-mail) as the payment succeeds, ready
for off-session charges; unticked, declined or not offered, nothing is saved. The Stripe path
through the real SDK against the local Stripe fake: the PaymentIntent carries the Stripe
customer and setup_future_usage=off_session, and the saved card is then charged off session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from backend.core.db import session_scope
from backend.models import Customer, DomainEvent, Payment
from backend.models import PaymentMethod as SavedCard
from backend.services.checkout import paying
from backend.services.context import Scope
from backend.services.payments import charges
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant

URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}
KEY = "sk_test_fake_save_card"


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def new_session(shop: Merchant, **body: Any) -> dict[str, Any]:
    payload = {"amountCents": 2_000, "currency": "USD", **URLS, **body}
    response = shop.post("/api/checkout/sessions", payload)
    assert response.status_code == 201, response.text
    return response.json()["session"]


def cards_of(shop: Merchant) -> list[SavedCard]:
    with session_scope(readonly=True) as db:
        return list(
            db.exec(
                select(SavedCard)
                .where(SavedCard.merchant_id == shop.merchant_id)
                .order_by(col(SavedCard.created_at))
            )
        )


def pay(session_id: str, token: str, email: str | None, save: bool) -> paying.PayResult:
    with session_scope() as db:
        result = paying.pay(db, session_id, token=token, customer_email=email, save_card=save)
        db.expunge_all()
    return result


def test_a_ticked_box_saves_the_card_for_a_new_customer(shop: Merchant) -> None:
    session = new_session(shop, savePaymentMethod=True)
    assert session["savePaymentMethod"] is True
    result = pay(session["id"], "4242424242424242", "new@example.com", True)
    assert result.status == "complete"
    [card] = cards_of(shop)
    assert (card.brand, card.last4, card.gateway) == ("visa", "4242", "sandbox")
    with session_scope(readonly=True) as db:
        customer = db.get(Customer, card.customer_id)
        payment = db.get(Payment, result.payment.id)
        assert customer is not None and payment is not None
        assert customer.email == "new@example.com"
        assert customer.default_payment_method_id == card.id
        assert payment.customer_id == customer.id and payment.card_last4 == "4242"
        types = db.exec(
            select(DomainEvent.type).where(DomainEvent.object_id.in_([card.id, customer.id]))  # type: ignore[attr-defined]
        ).all()
    assert "payment_method.attached" in types
    # The saved card is charged later without the customer.
    with session_scope() as db:
        later = charges.charge_saved_method(
            db, Scope(shop.merchant_id, False), customer.id, None, 1_500, "USD", "renewal-1"
        )
        assert later.ok and later.payment.status == "succeeded"


def test_the_sessions_customer_is_the_one_saved_for(shop: Merchant) -> None:
    made = shop.post("/api/customers", {"email": "ada@example.com"}).json()["customer"]
    session = new_session(shop, savePaymentMethod=True, customerEmail="ada@example.com")
    assert pay(session["id"], "pm_card_visa", None, True).status == "complete"
    [card] = cards_of(shop)
    assert card.customer_id == made["id"]
    listed = shop.get(f"/api/customers/{made['id']}/payment_methods").json()["paymentMethods"]
    assert [m["id"] for m in listed] == [card.id]


@pytest.mark.parametrize(
    ("offered", "ticked", "token", "status"),
    [
        (True, False, "4242424242424242", "complete"),  # not ticked
        (False, True, "4242424242424242", "complete"),  # not offered: the tick is ignored
        (True, True, "4000000000000002", "declined"),  # declined: nothing saved
    ],
)
def test_nothing_is_saved_otherwise(
    shop: Merchant, offered: bool, ticked: bool, token: str, status: str
) -> None:
    session = new_session(shop, savePaymentMethod=offered)
    assert pay(session["id"], token, "bob@example.com", ticked).status == status
    assert cards_of(shop) == []


def test_save_payment_method_must_be_a_boolean(shop: Merchant) -> None:
    body = {"amountCents": 100, "currency": "USD", **URLS, "savePaymentMethod": "yes"}
    response = shop.post("/api/checkout/sessions", body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "savePaymentMethod"
    assert new_session(shop)["savePaymentMethod"] is False


@pytest.fixture
def fake(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    from tests.conftest import _reset_caches

    with FakeStripe(api_key=KEY) as fake:
        monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
        monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_fake")
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        _reset_caches()
        yield fake
        _reset_caches()


def test_stripe_saves_with_setup_future_usage_then_charges_off_session(
    fake: FakeStripe,
) -> None:
    from backend.api import create_app

    with TestClient(create_app()) as client:
        shop = new_merchant(client)
        session = new_session(shop, savePaymentMethod=True)
        result = pay(session["id"], "pm_card_visa", "ada@example.com", True)
        assert result.status == "complete" and result.payment.gateway == "stripe"
        [created] = fake.calls("POST", "/v1/payment_intents")
        assert created.params["setup_future_usage"] == "off_session"
        stripe_customer = created.params["customer"]
        assert stripe_customer in fake.customers
        [card] = cards_of(shop)
        assert card.gateway == "stripe" and card.gateway_customer_id == stripe_customer
        assert fake.payment_methods[card.gateway_payment_method_id]["customer"] == stripe_customer
        assert card.last4 == "4242"

        with session_scope() as db:
            later = charges.charge_saved_method(
                db, Scope(shop.merchant_id, False), card.customer_id, card.id, 900, "USD", "r-1"
            )
            assert later.ok, later.error_message
        renewal = fake.calls("POST", "/v1/payment_intents")[-1]
        assert renewal.params["off_session"] == "true"
        assert renewal.params["customer"] == stripe_customer
        assert renewal.params["payment_method"] == card.gateway_payment_method_id
