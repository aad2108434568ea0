"""Routing across gateways: rules, failover when a gateway is down, never after it may have acted.

Stripe here is the real SDK talking to the local fake Stripe API on 127.0.0.1.
"""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.crypto import encrypt_json
from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import GatewayConfig, Payment, PaymentAttempt
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant


@pytest.fixture
def fake_stripe():  # type: ignore[no-untyped-def]
    with FakeStripe() as fake:
        yield fake


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def client(configured_app: str, monkeypatch: pytest.MonkeyPatch, request):  # type: ignore[no-untyped-def]
    from backend.api import create_app
    from tests.conftest import _reset_caches

    base = request.getfixturevalue("stripe_base")
    monkeypatch.setenv("STRIPE_API_BASE", base)
    _reset_caches()
    with TestClient(create_app()) as test_client:
        yield test_client


def configure(shop: Merchant, *rows: dict) -> None:
    with session_scope() as db:
        for priority, row in enumerate(rows, start=1):
            credentials = row.pop("credentials", None)
            db.add(
                GatewayConfig(
                    id=new_id("gwc"),
                    merchant_id=shop.merchant_id,
                    priority=priority,
                    credentials_encrypted=(encrypt_json(credentials) if credentials else None),
                    **row,
                )
            )


def attempts(payment_id: str) -> list[tuple[str, str]]:
    with session_scope() as db:
        rows = db.exec(
            select(PaymentAttempt)
            .where(PaymentAttempt.payment_id == payment_id)
            .order_by(PaymentAttempt.created_at, PaymentAttempt.id)
        ).all()
        return [(a.gateway, a.outcome) for a in rows]


class TestWithStripeDown:
    @pytest.fixture
    def stripe_base(self) -> str:
        return f"http://127.0.0.1:{_closed_port()}"

    def test_an_unreachable_gateway_fails_over_to_the_next(self, client: TestClient):
        shop = new_merchant(client)
        configure(
            shop,
            {"gateway": "stripe", "credentials": {"secret_key": "sk_test_fake"}},
            {"gateway": "sandbox"},
        )
        response = shop.charge("pm_card_visa")
        assert response.status_code == 201, response.text
        payment = response.json()["payment"]
        assert payment["gatewayType"] == "sandbox"
        assert attempts(payment["id"]) == [("stripe", "error"), ("sandbox", "succeeded")]

    def test_rules_pick_the_gateway_by_currency(self, client: TestClient):
        shop = new_merchant(client)
        configure(
            shop,
            {
                "gateway": "stripe",
                "currencies": ["EUR"],
                "credentials": {"secret_key": "sk_test_fake"},
            },
            {"gateway": "sandbox"},
        )
        payment = shop.charge("pm_card_visa", currency="USD").json()["payment"]
        assert attempts(payment["id"]) == [("sandbox", "succeeded")]


class TestWithFakeStripe:
    @pytest.fixture
    def stripe_base(self, fake_stripe: FakeStripe) -> str:
        return fake_stripe.url

    def test_stripe_charges_through_the_sdk(self, client: TestClient, fake_stripe: FakeStripe):
        shop = new_merchant(client)
        configure(shop, {"gateway": "stripe", "credentials": {"secret_key": "sk_test_fake"}})
        response = shop.charge("pm_card_visa", amount=10_000)
        assert response.status_code == 201, response.text
        payment = response.json()["payment"]
        assert (payment["gatewayType"], payment["status"]) == ("stripe", "succeeded")
        assert payment["gatewayPaymentId"] in fake_stripe.payment_intents
        assert (payment["platformFee"], payment["gatewayFee"]) == (300, 320)
        refund = shop.post(f"/api/payments/{payment['id']}/refund", {"amountCents": 2_500})
        assert refund.status_code == 200, refund.text
        assert len(fake_stripe.refunds) == 1

    def test_a_lost_answer_is_asked_again_never_sent_elsewhere(
        self, client: TestClient, fake_stripe: FakeStripe
    ):
        shop = new_merchant(client)
        configure(
            shop,
            {"gateway": "stripe", "credentials": {"secret_key": "sk_test_fake"}},
            {"gateway": "sandbox"},
        )
        # The card lookup, the charge and its one retry all fail after Stripe may have acted.
        fake_stripe.fail_next(3, 500)
        response = shop.charge("pm_card_visa")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "gateway_outcome_unknown"
        payment_id = response.json()["payment"]["id"]
        assert attempts(payment_id) == [("stripe", "error"), ("stripe", "error")]

    def test_a_retry_with_the_same_key_recovers(self, client: TestClient, fake_stripe: FakeStripe):
        shop = new_merchant(client)
        configure(
            shop,
            {"gateway": "stripe", "credentials": {"secret_key": "sk_test_fake"}},
            {"gateway": "sandbox"},
        )
        fake_stripe.fail_next(2, 500)  # the card lookup and the first charge
        response = shop.charge("pm_card_visa")
        assert response.status_code == 201, response.text
        payment = response.json()["payment"]
        assert attempts(payment["id"]) == [("stripe", "error"), ("stripe", "succeeded")]
        assert len(fake_stripe.payment_intents) == 1
        keys = {c.idempotency_key for c in fake_stripe.calls("POST", "/v1/payment_intents")}
        assert len(keys) == 1

    def test_a_decline_is_never_retried_elsewhere(self, client: TestClient):
        shop = new_merchant(client)
        configure(
            shop,
            {"gateway": "stripe", "credentials": {"secret_key": "sk_test_fake"}},
            {"gateway": "sandbox"},
        )
        response = shop.charge("pm_card_chargeDeclined")
        assert response.status_code == 402
        assert attempts(response.json()["payment"]["id"]) == [("stripe", "declined")]


class TestCostAndPinning:
    @pytest.fixture
    def stripe_base(self) -> str:
        return f"http://127.0.0.1:{_closed_port()}"

    def _reason(self, payment_id: str) -> tuple[str | None, str | None]:
        with session_scope() as db:
            [attempt] = db.exec(
                select(PaymentAttempt).where(PaymentAttempt.payment_id == payment_id)
            ).all()
            return attempt.route_reason, attempt.gateway

    def test_the_cheaper_processor_takes_it_unless_one_is_pinned(self, client: TestClient):
        from backend.services.context import Scope
        from backend.services.payments import gateway_configs

        shop = new_merchant(client)
        configure(
            shop,
            {"gateway": "sandbox", "fee_percent_pips": 50_000},  # first in the order, 5%
            {"gateway": "sandbox", "fee_percent_pips": 10_000},  # 1%: cheaper
        )
        with session_scope() as db:
            dear, cheap = gateway_configs.list_configs(db, Scope(shop.merchant_id, False))
            dear_id, cheap_id = dear.id, cheap.id
        payment = shop.charge("pm_card_visa", amount=10_000).json()["payment"]
        assert self._reason(payment["id"]) == (
            "cheapest: Sandbox 1% + $0.30 = $1.30 vs Sandbox 5% + $0.30 = $5.30",
            "sandbox",
        )
        with session_scope() as db:
            assert db.get(Payment, payment["id"]).gateway_config_id == cheap_id  # type: ignore[union-attr]
            gateway_configs.set_pinned(db, Scope(shop.merchant_id, False), dear_id, True)
        pinned = shop.charge("pm_card_visa", amount=10_000).json()["payment"]
        assert self._reason(pinned["id"])[0] == "pinned first in your order"
        with session_scope() as db:
            assert db.get(Payment, pinned["id"]).gateway_config_id == dear_id  # type: ignore[union-attr]
            assert pinned["gatewayFee"] == 530
