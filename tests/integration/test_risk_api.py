"""Risk through the REST API and the hosted checkout, on SQLite and PostgreSQL: test cards are
never throttled in test mode, the risk test cards block or review on purpose, and every risk
refusal names its rule (error.rule). Live mode runs the real stripe SDK against FakeStripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.models import PaymentAttempt
from backend.services.checkout import paying
from backend.services.identity import api_keys
from backend.services.payments import blocklist
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant

# The merchant's own machine, as when trying the integration locally.
LOCAL = ("127.0.0.1", 50000)
EMAIL = "tester@shop.test"
URLS = {"successUrl": "https://shop.test/thanks", "cancelUrl": "https://shop.test/cart"}


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app(), client=LOCAL) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def charge(shop: Merchant, token: str, amount: int = 1000) -> dict:
    body = {
        "amountCents": amount,
        "currency": "USD",
        "customerEmail": EMAIL,
        "paymentMethod": {"type": "card", "token": token},
    }
    return shop.post("/api/payments/charge", body).json()


def gateway_attempts(payment_id: str) -> int:
    with session_scope() as db:
        return len(
            db.exec(select(PaymentAttempt).where(PaymentAttempt.payment_id == payment_id)).all()
        )


# --- test cards are not throttled in test mode --------------------------------------------------


def test_the_twelfth_test_card_charge_in_an_hour_succeeds_unflagged(shop: Merchant):
    # Same card, same e-mail, same address, twelve times: a merchant trying their integration.
    answers = [charge(shop, "pm_card_visa") for _ in range(12)]
    for answer in answers:
        assert answer["success"] is True, answer
        assert answer["payment"]["status"] == "succeeded"
        assert answer["payment"]["risk"]["decision"] == "allow"
        assert answer["payment"]["risk"]["reasons"] == []
    # The typed number and another test card too.
    assert charge(shop, "4242 4242 4242 4242")["payment"]["risk"]["decision"] == "allow"


# --- the risk test cards ------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["pm_card_radarBlock", "4100 0000 0000 0019"])
def test_the_block_test_card_is_refused_naming_its_rule(shop: Merchant, client: TestClient, token):
    body = {
        "amountCents": 1000,
        "currency": "USD",
        "paymentMethod": {"type": "card", "token": token},
    }
    response = shop.post("/api/payments/charge", body)
    assert response.status_code == 402
    answer = response.json()
    assert answer["success"] is False
    assert answer["error"] == {
        "code": "payment_blocked",
        "message": "Blocked by the risk rules. Risk test card: always blocked.",
        "param": "paymentMethod",
        "declineCode": "risk_blocked",
        "rule": "test_card_always_blocks",
    }
    payment = answer["payment"]
    assert payment["status"] == "failed"
    assert payment["risk"]["score"] == 100
    assert payment["risk"]["decision"] == "block"
    assert payment["risk"]["reasons"] == ["test_card_always_blocks"]
    assert gateway_attempts(payment["id"]) == 0  # never reached a gateway
    # Stored as it was answered.
    stored = shop.get(f"/api/payments/{payment['id']}").json()["payment"]
    assert stored["risk"]["reasons"] == ["test_card_always_blocks"]
    assert stored["failure"]["message"] == answer["error"]["message"]


@pytest.mark.parametrize("token", ["pm_card_riskLevelElevated", "4000000000009235"])
def test_the_elevated_test_card_is_charged_and_lands_in_review(shop: Merchant, token: str):
    answer = charge(shop, token)
    assert answer["success"] is True, answer
    payment = answer["payment"]
    assert payment["status"] == "succeeded"
    assert payment["risk"]["decision"] == "review"
    assert payment["risk"]["score"] == 50  # the merchant's review score
    assert payment["risk"]["reasons"] == ["test_card_elevated_risk"]
    assert payment["risk"]["review"] == "open"
    assert gateway_attempts(payment["id"]) == 1


def test_a_blocklist_refusal_names_its_rule(shop: Merchant):
    with session_scope() as db:
        blocklist.add_to_blocklist(db, shop.merchant_id, "email", EMAIL)
    answer = charge(shop, "pm_card_visa")
    assert answer["error"]["code"] == "payment_blocked"
    assert answer["error"]["rule"] == "blocklisted_email"
    assert answer["error"]["message"] == "Blocked by the risk rules. On your blocklist: e-mail."


def test_other_errors_carry_no_rule(shop: Merchant):
    answer = charge(shop, "pm_card_chargeDeclined")
    assert answer["error"]["code"] == "card_declined"
    assert "rule" not in answer["error"]


def test_the_openapi_schema_documents_error_rule(client: TestClient):
    schema = client.get("/api/openapi.json").json()
    detail = schema["components"]["schemas"]["ErrorDetail"]["properties"]
    assert "rule" in detail and "payment_blocked" in detail["rule"]["description"]
    charge_402 = schema["paths"]["/api/payments/charge"]["post"]["responses"]["402"]
    ref = charge_402["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][ref]["properties"]["error"]["$ref"].endswith(
        "/ErrorDetail"
    )


# --- the hosted checkout ------------------------------------------------------------------------


def _session(shop: Merchant) -> str:
    response = shop.post("/api/checkout/sessions", {"currency": "USD", "amountCents": 1500, **URLS})
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def test_the_checkout_tells_a_tester_which_rule_blocked_the_payment(shop: Merchant):
    session_id = _session(shop)
    with session_scope() as db:
        result = paying.pay(db, session_id, token="4100000000000019", customer_email=EMAIL)
    assert (result.status, result.error_code) == ("declined", "payment_blocked")
    assert result.blocked_by == "Risk test card: always blocked"
    with session_scope() as db:  # the session stays open for another card
        assert paying.pay(db, session_id, token="pm_card_visa", customer_email=EMAIL).status == (
            "complete"
        )


# --- live mode: velocity still counts -----------------------------------------------------------


@pytest.fixture
def live_shop(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Merchant]:
    """A merchant with a live key, charging through the platform's Stripe (FakeStripe)."""
    from backend.api import create_app
    from tests.conftest import _reset_caches

    with FakeStripe(api_key="sk_live_fake_risk") as fake:
        monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_fake_risk")
        monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_live_fake_risk")
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        _reset_caches()
        with TestClient(create_app(), client=LOCAL) as client:
            merchant = new_merchant(client)
            with session_scope() as db:
                live = api_keys.issue_key(db, merchant.merchant_id, livemode=True)
            yield Merchant(client, merchant.merchant_id, live.secret)
    _reset_caches()


def test_live_velocity_still_flags_then_blocks_naming_the_rule(live_shop: Merchant):
    answers = [charge(live_shop, "pm_card_visa") for _ in range(12)]
    decisions = [a["payment"]["risk"]["decision"] for a in answers]
    # 7 earlier payments of the card (+50) and 6 of the e-mail (+20) put the 8th in review;
    # 11 of each and 11 from the address (+50 +40 +20) block the 12th.
    assert decisions == ["allow"] * 7 + ["review"] * 4 + ["block"]
    assert answers[7]["payment"]["risk"]["reasons"] == [
        "velocity_card:7_in_1h",
        "velocity_email:7_in_1h",
    ]
    blocked = answers[11]
    assert blocked["error"]["code"] == "payment_blocked"
    assert blocked["error"]["rule"] == "velocity_card:11_in_1h"
    assert blocked["error"]["message"] == (
        "Blocked by the risk rules. Card used 11 times in the last hour."
    )
    assert gateway_attempts(blocked["payment"]["id"]) == 0


def test_a_live_customer_is_not_told_the_rule(live_shop: Merchant):
    with session_scope() as db:
        blocklist.add_to_blocklist(db, live_shop.merchant_id, "email", EMAIL)
    session_id = _session(live_shop)
    with session_scope() as db:
        result = paying.pay(db, session_id, token="pm_card_visa", customer_email=EMAIL)
    assert (result.status, result.error_code) == ("declined", "payment_blocked")
    assert result.blocked_by is None
