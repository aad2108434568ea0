"""Events from a merchant's own Stripe account: POST /api/webhooks/stripe/{processor_id},
verified with that processor's signing secret and applied only to the payments it took."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import AuditLog, Payment
from backend.services.context import Scope
from backend.services.payments import gateway_configs
from tests.integration import webhook_signing as ws
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.integration.test_webhooks_inbound import state, stored, stripe_payment, webhook_app

OWN_KEY = "sk_test_" + "Own1" * 6
OWN_SECRET = "whsec_" + "c3" * 16
ROTATED_SECRET = "whsec_" + "d4" * 16


@pytest.fixture
def client(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with TestClient(webhook_app(monkeypatch)) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return new_merchant(client)


def own_account(shop: Shop, *, webhook_secret: str | None = OWN_SECRET) -> str:
    with session_scope() as db:
        config = gateway_configs.add(
            db,
            Scope(shop.merchant_id, False),
            gateway="stripe",
            secret_key=OWN_KEY,
            webhook_secret=webhook_secret,
        )
        return config.id


def taken_by(payment_id: str, config_id: str) -> None:
    with session_scope() as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        payment.gateway_config_id = config_id
        db.add(payment)


def send_to(
    client: TestClient, config_id: str, event: dict[str, Any], secret: str = OWN_SECRET
) -> httpx.Response:
    body, headers = ws.signed(event, secret)
    return client.post(f"/api/webhooks/stripe/{config_id}", content=body, headers=headers)


def succeeded_event(pi: dict[str, Any]) -> dict[str, Any]:
    return ws.event(
        "payment_intent.succeeded", ws.with_(pi, status="succeeded", amount_received=pi["amount"])
    )


def test_an_own_account_event_settles_that_processors_payment(client: TestClient, shop: Shop):
    config_id = own_account(shop)
    payment_id, pi = stripe_payment(shop)
    taken_by(payment_id, config_id)
    event = succeeded_event(pi)

    response = send_to(client, config_id, event)
    assert response.status_code == 200, response.text
    assert response.json()["duplicate"] is False
    row = stored(event["id"])
    assert (row["provider"], row["status"]) == (f"stripe:{config_id}", "processed")
    assert state(payment_id)["status"] == "succeeded"

    # The platform's secret does not sign for the merchant's account, nor the reverse.
    assert send_to(client, config_id, ws.event("charge.refunded", {}), ws.SECRET).json()["error"][
        "code"
    ] == ("signature_invalid")
    body, headers = ws.signed(succeeded_event(pi), OWN_SECRET)
    refused = client.post("/api/webhooks/stripe", content=body, headers=headers)
    assert refused.status_code == 400


def test_an_own_account_cannot_touch_other_payments(client: TestClient, shop: Shop):
    config_id = own_account(shop)
    # Another merchant's payment on the platform's account, and this merchant's own payment on
    # the platform's account: the merchant holds its signing secret and could forge either.
    other = new_merchant(client)
    for victim in (other, shop):
        payment_id, pi = stripe_payment(victim)
        before = state(payment_id)
        event = succeeded_event(pi)
        assert send_to(client, config_id, event).status_code == 200
        row = stored(event["id"])
        assert (
            row["status"] == "ignored" and "not taken through processor" in (row["error_message"])
        )
        assert state(payment_id) == before


def test_the_platform_account_cannot_touch_an_own_accounts_payment(client: TestClient, shop: Shop):
    config_id = own_account(shop)
    payment_id, pi = stripe_payment(shop)
    taken_by(payment_id, config_id)
    before = state(payment_id)
    event = succeeded_event(pi)
    body, headers = ws.signed(event)
    assert client.post("/api/webhooks/stripe", content=body, headers=headers).status_code == 200
    row = stored(event["id"])
    assert row["status"] == "ignored" and "own Stripe account" in row["error_message"]
    assert state(payment_id) == before


def test_event_ids_are_unique_per_account(client: TestClient, shop: Shop):
    """A merchant cannot pre-empt a platform event by sending its id first."""
    config_id = own_account(shop)
    event = ws.event("payment_intent.created", ws.payment_intent())
    assert send_to(client, config_id, event).json()["duplicate"] is False
    body, headers = ws.signed(event)
    platform = client.post("/api/webhooks/stripe", content=body, headers=headers)
    assert platform.json()["duplicate"] is False
    assert send_to(client, config_id, event).json()["duplicate"] is True


def test_unknown_unready_and_wrong_mode_endpoints_are_refused(client: TestClient, shop: Shop):
    event = ws.event("payment_intent.created", ws.payment_intent())
    assert send_to(client, "gwc_nope", event).status_code == 404
    assert send_to(client, "x" * 5000, event).status_code == 404
    no_secret = own_account(shop, webhook_secret=None)
    assert send_to(client, no_secret, event).status_code == 404
    config_id = own_account(shop)
    live = ws.event("payment_intent.created", ws.payment_intent(), livemode=True)
    response = send_to(client, config_id, live)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "livemode_mismatch"


def test_rotation_keeps_both_secrets_and_the_audit_never_holds_them(client: TestClient, shop: Shop):
    config_id = own_account(shop)
    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        config = gateway_configs.update(
            db,
            scope,
            config_id,
            rules=gateway_configs.Rules(),
            webhook_secret=f"{ROTATED_SECRET}, {OWN_SECRET}",
        )
        assert gateway_configs.masked_webhook_secret(config) == "whsec_\u2026d4d4"
    for secret in (ROTATED_SECRET, OWN_SECRET):
        event = ws.event("payment_intent.created", ws.payment_intent())
        assert send_to(client, config_id, event, secret).status_code == 200
    with session_scope() as db:  # editing other things keeps the secrets and the key
        config = gateway_configs.update(
            db, scope, config_id, rules=gateway_configs.Rules(currencies=("USD",))
        )
        assert gateway_configs.webhook_secrets(config) == [ROTATED_SECRET, OWN_SECRET]
        assert gateway_configs.masked_key(config) == "sk_test_\u2026Own1"
        details = [
            row.details
            for row in db.exec(select(AuditLog).where(AuditLog.object_id == config_id)).all()
        ]
    assert any(d.get("webhook_secret_replaced") for d in details)
    assert "c3c3" not in str(details) and "d4d4" not in str(details)


@pytest.mark.parametrize(
    ("key", "secret", "message"),
    [
        (None, OWN_SECRET, "own Stripe account"),
        (OWN_KEY, "sk_test_" + "x" * 30, "starts with whsec_"),
        (OWN_KEY, "whsec_short", "starts with whsec_"),
        (OWN_KEY, ", ".join([OWN_SECRET] * 3), "signing secret"),
    ],
)
def test_signing_secrets_are_checked(shop: Shop, key: str | None, secret: str, message: str):
    with pytest.raises(ValidationFailed, match=message), session_scope() as db:
        gateway_configs.add(
            db,
            Scope(shop.merchant_id, False),
            gateway="stripe",
            secret_key=key,
            webhook_secret=secret,
        )
