"""Saved cards on Stripe through the real stripe SDK against the local FakeStripe: Customers,
SetupIntents (off_session), attaching, detaching, off-session PaymentIntents and
authentication_required; then the same through the API and charge_saved_method, booked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.core.db import session_scope
from backend.gateways.base import Outcome, PaymentRequest
from backend.gateways.stripe_gateway import StripeGateway
from backend.models import PaymentMethod as SavedCard
from backend.models.enums import PaymentStatus
from backend.services.context import Scope
from backend.services.payments import charges
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import assert_ledger_consistent

KEY = "sk_test_fake_saved_cards"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def gateway(fake: FakeStripe) -> Iterator[StripeGateway]:
    gateway = StripeGateway(KEY, api_base=fake.url, timeout=2)
    yield gateway
    gateway.close()


def customer(gateway: StripeGateway, key: str = "cus-key") -> str:
    return gateway.create_customer(
        email="ada@example.com", name="Ada", reference="cus_ours", idempotency_key=key
    )


def off_session(pm: str, cus: str, key: str = "charge-1") -> PaymentRequest:
    return PaymentRequest(
        amount=2500,
        currency="USD",
        payment_method_type="card",
        payment_method_token=pm,
        capture=True,
        idempotency_key=key,
        gateway_customer_id=cus,
        off_session=True,
    )


def test_customer_is_made_once_per_key(gateway: StripeGateway, fake: FakeStripe) -> None:
    first = customer(gateway)
    assert first.startswith("cus_") and customer(gateway) == first  # replayed by Stripe
    assert len(fake.customers) == 1
    made = fake.calls("POST", "/v1/customers")[0].params
    assert made["metadata"] == {"payportal_customer": "cus_ours"} and made["email"]


def test_save_card_with_an_off_session_setup_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    cus = customer(gateway)
    saved = gateway.save_card(cus, "pm_card_visa", idempotency_key="setup-1")
    assert saved.saved and not saved.authentication_required
    assert saved.card.last4 == "4242" and saved.card.fingerprint
    sent = fake.calls("POST", "/v1/setup_intents")[0]
    assert sent.params["usage"] == "off_session" and sent.params["confirm"] == "true"
    assert sent.params["customer"] == cus and sent.idempotency_key == "setup-1"
    assert fake.payment_methods[saved.gateway_payment_method_id]["customer"] == cus
    again = gateway.save_card(cus, "pm_card_visa", idempotency_key="setup-1")
    assert again.gateway_payment_method_id == saved.gateway_payment_method_id
    assert len(fake.setup_intents) == 1

    charged = gateway.create_payment(off_session(saved.gateway_payment_method_id, cus))
    assert charged.outcome is Outcome.SUCCEEDED
    intent = fake.calls("POST", "/v1/payment_intents")[0].params
    assert intent["off_session"] == "true" and intent["customer"] == cus

    gateway.detach_card(saved.gateway_payment_method_id, idempotency_key="detach-1")
    assert fake.payment_methods[saved.gateway_payment_method_id]["customer"] is None
    gateway.detach_card(saved.gateway_payment_method_id, idempotency_key="detach-2")  # no error


def test_a_card_the_issuer_refuses_is_not_saved(gateway: StripeGateway, fake: FakeStripe) -> None:
    cus = customer(gateway)
    refused = gateway.save_card(cus, "pm_card_chargeDeclined", idempotency_key="setup-2")
    assert not refused.saved and refused.decline_code == "card_declined" and refused.message
    assert all(pm["customer"] is None for pm in fake.payment_methods.values())


def test_charge_customer_fail_saves_then_declines(gateway: StripeGateway) -> None:
    cus = customer(gateway)
    saved = gateway.save_card(cus, "pm_card_chargeCustomerFail", idempotency_key="setup-3")
    assert saved.saved and saved.card.last4 == "0341"
    declined = gateway.create_payment(off_session(saved.gateway_payment_method_id, cus))
    assert declined.outcome is Outcome.DECLINED and declined.decline_code == "card_declined"


def test_authentication_required_off_session(gateway: StripeGateway, fake: FakeStripe) -> None:
    cus = customer(gateway)
    saved = gateway.save_card(cus, "pm_card_authenticationRequired", idempotency_key="setup-4")
    # The SetupIntent asked for the customer, who is not there: the card is attached as it is.
    assert saved.saved and saved.authentication_required and saved.card.last4 == "3184"
    assert [si["status"] for si in fake.setup_intents.values()] == ["requires_action"]
    assert fake.payment_methods[saved.gateway_payment_method_id]["customer"] == cus
    waiting = gateway.create_payment(off_session(saved.gateway_payment_method_id, cus))
    assert waiting.outcome is Outcome.REQUIRES_ACTION
    assert waiting.decline_code == "authentication_required"
    assert fake.payment_intents[waiting.gateway_payment_id]["status"] == "requires_payment_method"


def test_an_attached_card_is_charged_with_its_customer_only(gateway: StripeGateway) -> None:
    cus = customer(gateway)
    saved = gateway.save_card(cus, "pm_card_visa", idempotency_key="setup-5")
    other = customer(gateway, key="other-customer")
    with pytest.raises(Exception, match="rejected"):
        gateway.create_payment(off_session(saved.gateway_payment_method_id, other))


# -- through the API and the charge path -------------------------------------------------------


@pytest.fixture
def stripe_app(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    from tests.conftest import _reset_caches

    with FakeStripe(api_key=KEY) as fake:
        monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        _reset_caches()
        yield fake
    _reset_caches()


@pytest.fixture
def shop(stripe_app: FakeStripe) -> Iterator[Merchant]:
    from backend.api import create_app

    with TestClient(create_app()) as client:
        yield new_merchant(client)


def save(shop: Merchant, customer_id: str, token: str) -> dict:
    response = shop.post(
        f"/api/customers/{customer_id}/payment_methods", {"type": "card", "token": token}
    )
    assert response.status_code == 201, response.text
    return response.json()["paymentMethod"]


def charge(shop: Merchant, customer_id: str, key: str) -> charges.PaymentOutcome:
    with session_scope() as db:
        outcome = charges.charge_saved_method(
            db, Scope(shop.merchant_id, False), customer_id, None, 4_000, "USD", key
        )
        db.expunge(outcome.payment)
    return outcome


def test_saved_cards_on_stripe_end_to_end(shop: Merchant, stripe_app: FakeStripe) -> None:
    made = shop.post("/api/customers", {"email": "ada@example.com", "name": "Ada"})
    customer_id = made.json()["customer"]["id"]
    visa = save(shop, customer_id, "pm_card_visa")
    assert visa["gatewayType"] == "stripe" and visa["card"]["last4"] == "4242"
    strict = save(shop, customer_id, "pm_card_authenticationRequired")
    assert strict["authenticationRequired"] is True
    assert len(stripe_app.customers) == 1  # one Stripe Customer for both cards
    with session_scope(readonly=True) as db:
        rows = [db.get(SavedCard, visa["id"]), db.get(SavedCard, strict["id"])]
    assert {r.gateway_customer_id for r in rows} == set(stripe_app.customers)

    outcome = charge(shop, customer_id, "inv-1:1")  # the default: the first card saved
    assert outcome.ok and outcome.payment.status == PaymentStatus.SUCCEEDED
    assert outcome.payment.gateway == "stripe" and outcome.payment.customer_id == customer_id
    pi = stripe_app.payment_intents[outcome.payment.gateway_payment_id]
    assert pi["customer"] in stripe_app.customers and pi["status"] == "succeeded"

    shop.post(f"/api/customers/{customer_id}", {"defaultPaymentMethod": strict["id"]})
    waiting = charge(shop, customer_id, "inv-1:2")
    assert waiting.error_code == "authentication_required"
    assert waiting.payment.status == PaymentStatus.REQUIRES_ACTION
    assert_ledger_consistent(shop.merchant_id)

    detached = shop.client.delete(
        f"/api/customers/{customer_id}/payment_methods/{visa['id']}", headers=shop.headers()
    )
    assert detached.status_code == 200
    pm = rows[0].gateway_payment_method_id
    assert stripe_app.payment_methods[pm]["customer"] is None

    refused = shop.post(
        f"/api/customers/{customer_id}/payment_methods",
        {"type": "card", "token": "pm_card_chargeDeclined"},
    )
    assert refused.status_code == 402
    assert refused.json()["error"]["declineCode"] == "card_declined"
    not_stripe = shop.post(
        f"/api/customers/{customer_id}/payment_methods",
        {"type": "card", "token": "4242424242424242"},
    )
    assert not_stripe.status_code == 422  # a card number never goes to Stripe


def test_subscriptions_renew_through_stripe_off_session(
    shop: Merchant, stripe_app: FakeStripe
) -> None:
    """The billing engine on Stripe: every renewal is an off-session PaymentIntent on the
    Stripe Customer's saved card; a card that needs authentication leaves the renewal waiting
    for the customer (invoice.payment_action_required) instead of failing it."""
    from tests.integration.billing_support import (
        DAY,
        JAN_31,
        advance,
        clock_customer,
        events_of,
        invoices_of,
        plan,
        subscribe,
    )

    clock, customer_id = clock_customer(shop)
    sub = subscribe(shop, customer_id, plan(shop))
    advance(shop, clock, JAN_31 + 60 * DAY)  # Feb 28 and Mar 31 renewals
    paid = invoices_of(shop, sub["id"])
    assert [i["status"] for i in paid] == ["paid", "paid", "paid"]
    intents = [
        stripe_app.payment_intents[p]
        for p in stripe_app.payment_intents
        if stripe_app.payment_intents[p]["status"] == "succeeded"
    ]
    assert len(intents) == 3 and all(pi["customer"] in stripe_app.customers for pi in intents)
    renewals = [c.params for c in stripe_app.calls("POST", "/v1/payment_intents")][1:]
    assert renewals and all(params.get("off_session") == "true" for params in renewals)

    strict = save(shop, customer_id, "pm_card_authenticationRequired")
    shop.post(f"/api/subscriptions/{sub['id']}", {"defaultPaymentMethod": strict["id"]})
    advance(shop, clock, JAN_31 + 91 * DAY)  # the Apr 30 renewal needs the customer
    waiting = invoices_of(shop, sub["id"])[-1]
    assert waiting["status"] == "open"
    assert "invoice.payment_action_required" in events_of(waiting["id"])
    assert_ledger_consistent(shop.merchant_id)
