"""Live-mode checkout, server side: the real stripe SDK against the local FakeStripe.

What the browser does (Payment Element, createPaymentMethod, handleNextAction) needs Stripe.js
from js.stripe.com and cannot run offline; the test plays its part with the fake's test
PaymentMethods and its `complete_authentication`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.core.db import session_scope
from backend.services.checkout import paying
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant

KEY = "sk_test_fake_checkout"
URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}


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


@pytest.fixture
def shop(fake: FakeStripe) -> Iterator[Merchant]:
    from backend.api import create_app

    with TestClient(create_app()) as client:
        yield new_merchant(client)


def session_id(shop: Merchant, amount: int = 2000) -> str:
    response = shop.post(
        "/api/checkout/sessions", {"amountCents": amount, "currency": "USD", **URLS}
    )
    return response.json()["session"]["id"]


def test_payment_element_path_charges_through_stripe_with_our_key(
    shop: Merchant, fake: FakeStripe
) -> None:
    sid = session_id(shop)
    with session_scope() as db:
        assert paying.open_session(db, sid).status == "open"
        result = paying.pay(db, sid, token="pm_card_visa", customer_email="a@example.com")
    assert result.status == "complete" and result.payment.gateway == "stripe"
    created = fake.calls("POST", "/v1/payment_intents")
    assert len(created) == 1
    assert created[0].idempotency_key  # derived from the session and the attempt
    assert created[0].params["metadata"]["checkout_session_id"] == sid


def test_three_d_secure_via_stripe_then_server_reads_the_outcome(
    shop: Merchant, fake: FakeStripe
) -> None:
    sid = session_id(shop)
    with session_scope() as db:
        result = paying.pay(
            db, sid, token="pm_card_authenticationRequired", customer_email="a@example.com"
        )
    assert result.status == "requires_action"
    assert result.client_secret and result.client_secret.startswith(
        result.payment.gateway_payment_id
    )
    with session_scope() as db:  # handleNextAction has not finished yet
        assert paying.finish_action(db, sid).status == "requires_action"
    fake.complete_authentication(result.payment.gateway_payment_id, succeed=True)
    with session_scope() as db:
        done = paying.finish_action(db, sid)
    assert done.status == "complete"
    assert shop.get(f"/api/checkout/sessions/{sid}").json()["session"]["status"] == "complete"


def test_failed_stripe_authentication_leaves_the_session_open(
    shop: Merchant, fake: FakeStripe
) -> None:
    sid = session_id(shop)
    with session_scope() as db:
        result = paying.pay(
            db, sid, token="pm_card_authenticationRequired", customer_email="a@example.com"
        )
    fake.complete_authentication(result.payment.gateway_payment_id, succeed=False)
    with session_scope() as db:
        failed = paying.finish_action(db, sid)
    assert (failed.status, failed.error_code) == ("declined", "authentication_failed")
    with session_scope() as db:
        again = paying.pay(db, sid, token="pm_card_visa", customer_email="a@example.com")
    assert again.status == "complete"
