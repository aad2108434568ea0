"""Bank debits (ACH) with keys, on SQLite and PostgreSQL: the hosted checkout exchanges Plaid's
public token and gets Plaid's Stripe bank account token (the real plaid-python SDK against
tests/fakes/plaid_api.py), attaches it to a Stripe customer and confirms a us_bank_account
PaymentIntent under the customer's online mandate (the real stripe SDK against
tests/fakes/stripe_api.py). Stripe's events, stored and processed by the job runner, then
settle it, fail it, or return it after it succeeded, booked once whatever repeats."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.models import BankDebit, LedgerEntry, OutboundEmail, Payment
from backend.services.checkout import paying
from backend.services.payments.fees import BANK_RETURN_FEE
from tests.fakes.plaid_api import FakePlaid
from tests.fakes.stripe_api import FakeStripe
from tests.integration import webhook_signing as ws
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.test_webhooks_inbound import outbox, send, webhook_app

KEY = "sk_test_fake_bank"
URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}
AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) PayPortalTest"
IP = "198.51.100.23"


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def plaid_fake() -> Iterator[FakePlaid]:
    with FakePlaid() as fake:
        yield fake


@pytest.fixture
def client(
    configured_app: str,
    monkeypatch: pytest.MonkeyPatch,
    stripe_fake: FakeStripe,
    plaid_fake: FakePlaid,
) -> Iterator[TestClient]:
    from backend.core.config import get_settings

    monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_fake.url)
    monkeypatch.setenv("PLAID_CLIENT_ID", plaid_fake.client_id)
    monkeypatch.setenv("PLAID_SECRET", plaid_fake.secret)
    monkeypatch.setenv("PLAID_HOST", plaid_fake.url)
    get_settings.cache_clear()
    with TestClient(webhook_app(monkeypatch)) as client:
        yield client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def deliver(client: TestClient, fake: FakeStripe, since: int) -> int:
    """Stripe's events since `since`, each POSTed to our endpoint; the new position."""
    for event in fake.events[since:]:
        assert send(client, event).status_code == 200
    return len(fake.events)


def pay(shop: Merchant, plaid_fake: FakePlaid, amount: int = 5_000) -> Payment:
    body: dict[str, Any] = {"amountCents": amount, "currency": "USD", **URLS}
    body["paymentMethods"] = ["card", "bank"]
    sid = shop.post("/api/checkout/sessions", body).json()["session"]["id"]
    public_token = plaid_fake.public_token("ins_109509")
    account_id = plaid_fake.account_id(public_token, "checking")
    with session_scope() as db:
        result = paying.pay(
            db,
            sid,
            token="",
            customer_email="buyer@example.com",
            ip_address=IP,
            method="bank",
            bank=paying.BankChoice(public_token, account_id, AGENT),
        )
        assert result.status == "complete" and result.payment is not None
        db.expunge(result.payment)
        return result.payment


def fetch(payment_id: str) -> Payment:
    with session_scope(readonly=True) as db:
        found = db.get(Payment, payment_id)
        assert found is not None
        db.expunge(found)
        return found


def held(merchant_id: str) -> int:
    with session_scope(readonly=True) as db:
        total = db.exec(
            select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.merchant_id == merchant_id,
                LedgerEntry.account.in_(("merchant_pending", "merchant_available")),  # type: ignore[attr-defined]
            )
        ).one()
    return int(total or 0)


def test_plaid_and_stripe_debit_then_stripe_settles_it(
    client: TestClient, shop: Merchant, stripe_fake: FakeStripe, plaid_fake: FakePlaid
) -> None:
    payment = pay(shop, plaid_fake)
    assert (payment.status, payment.gateway) == ("processing", "stripe")
    # Plaid: the public token exchanged once, then Stripe's processor token for that account.
    paths = [path for path, _ in plaid_fake.requests]
    assert paths.count("/item/public_token/exchange") == 1
    assert paths.count("/processor/stripe/bank_account_token/create") == 1
    (token,) = plaid_fake.stripe_tokens
    # Stripe: a customer whose source is Plaid's token, then the us_bank_account debit.
    (customer_call,) = stripe_fake.calls("POST", "/v1/customers")
    assert customer_call.params["source"] == token
    (intent_call,) = stripe_fake.calls("POST", "/v1/payment_intents")
    assert intent_call.params["payment_method_types"] == ["us_bank_account"]
    assert intent_call.params["payment_method"].startswith("ba_")
    acceptance = intent_call.params["mandate_data"]["customer_acceptance"]
    assert acceptance["type"] == "online"
    assert acceptance["online"] == {"ip_address": IP, "user_agent": AGENT}
    with session_scope(readonly=True) as db:
        debit = db.get(BankDebit, payment.id)
        assert debit is not None
        assert (debit.bank_name, debit.last4) == ("First Gingham Credit Union", "0000")
        assert debit.gateway_mandate_id and debit.gateway_mandate_id.startswith("mandate_")
        assert debit.poll_until is None  # Stripe's events settle it

    seen = deliver(client, stripe_fake, 0)  # created, charge.pending, payment_intent.processing
    assert fetch(payment.id).status == "processing"
    stripe_fake.settle_bank(payment.gateway_payment_id or "")
    seen = deliver(client, stripe_fake, seen)
    settled = fetch(payment.id)
    assert settled.status == "succeeded" and settled.amount_captured == 5_000
    assert outbox(payment.id)["payment.succeeded"] == 1
    for event in stripe_fake.events:  # Stripe sends an event twice: nothing changes
        assert send(client, {**event, "id": ws.new_id("evt")}).status_code == 200
    assert outbox(payment.id)["payment.succeeded"] == 1


def test_a_stripe_return_after_success_reverses_once(
    client: TestClient, shop: Merchant, stripe_fake: FakeStripe, plaid_fake: FakePlaid
) -> None:
    payment = pay(shop, plaid_fake)
    stripe_fake.settle_bank(payment.gateway_payment_id or "")
    seen = deliver(client, stripe_fake, 0)
    succeeded = fetch(payment.id)
    before = held(shop.merchant_id)
    assert before == succeeded.net_amount

    stripe_fake.return_bank(payment.gateway_payment_id or "", "account_closed")
    deliver(client, stripe_fake, seen)  # charge.failed, then payment_intent.payment_failed
    returned = fetch(payment.id)
    assert (returned.status, returned.failure_code) == ("failed", "R02")
    assert returned.failure_message == "Account closed (R02)"
    assert held(shop.merchant_id) - before == -5_000 + succeeded.platform_fee - BANK_RETURN_FEE
    assert outbox(payment.id)["payment.failed"] == 1
    with session_scope(readonly=True) as db:
        mails = db.exec(
            select(OutboundEmail).where(
                OutboundEmail.merchant_id == shop.merchant_id,
                OutboundEmail.template == "bank_payment_returned",
            )
        ).all()
    assert len(mails) == 1


def test_a_failing_test_account_fails_through_stripe(
    client: TestClient, shop: Merchant, stripe_fake: FakeStripe
) -> None:
    order = shop.order(3_000)
    token = stripe_fake.bank_token("000222222227")
    response = shop.post(
        "/api/payments/charge",
        {
            "orderId": order,
            "paymentMethod": {"type": "bank", "token": token},
            "mandate": {"text": "I authorise Shop.", "ipAddress": IP, "userAgent": AGENT},
        },
    )
    assert response.status_code == 201, response.text
    payment_id = response.json()["payment"]["id"]
    intent = response.json()["payment"]["gatewayPaymentId"]
    stripe_fake.settle_bank(intent)
    deliver(client, stripe_fake, 0)
    failed = fetch(payment_id)
    assert (failed.status, failed.failure_code) == ("failed", "R01")
    assert held(shop.merchant_id) == 0
    # The token was used once: a second charge with it is refused by Stripe, nothing is stored.
    again = shop.post(
        "/api/payments/charge",
        {
            "amountCents": 3_000,
            "currency": "USD",
            "paymentMethod": {"type": "bank", "token": token},
            "mandate": {"text": "I authorise Shop.", "ipAddress": IP, "userAgent": AGENT},
        },
    )
    assert again.status_code == 422, again.text
    assert again.json()["error"]["code"] == "invalid_payment_method"
    with session_scope(readonly=True) as db:
        mine = db.exec(select(Payment).where(Payment.merchant_id == shop.merchant_id)).all()
    assert [p.id for p in mine] == [payment_id]
