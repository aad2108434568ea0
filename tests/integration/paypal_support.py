"""The fixtures of the PayPal tests: the real PayPal client pointed at tests/fakes/paypal_api.py,
the app on it, a merchant, and a merchant's PayPal processor. A test module takes the fixtures with
`pytest_plugins = ("tests.integration.paypal_support",)`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from backend.core.db import session_scope
from backend.models import InboundWebhookEvent, Payment
from backend.services.context import Scope
from backend.services.payments import gateway_configs
from tests.fakes.paypal_api import FakePayPal
from tests.integration.api_client import Merchant, new_merchant

CLIENT_ID = "AbCdEf-client-id-123"
SECRET = "EFgh-client-secret-456"
WEBHOOK_ID = "8PT597110X687430LKGECATA"


@pytest.fixture
def fake(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePayPal]:
    from backend.core.jobs import huey
    from tests.conftest import _reset_caches

    with FakePayPal(client_id=CLIENT_ID, secret=SECRET, webhook_id=WEBHOOK_ID) as server:
        monkeypatch.setenv("PAYPAL_API_BASE", server.url)
        monkeypatch.setattr(huey, "immediate", True)
        _reset_caches()
        with session_scope() as db:
            db.exec(delete(InboundWebhookEvent))
        yield server
    _reset_caches()


@pytest.fixture
def client(fake: FakePayPal) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def add_paypal(shop: Merchant, livemode: bool = False) -> str:
    with session_scope() as db:
        return gateway_configs.add(
            db,
            Scope(shop.merchant_id, livemode),
            gateway="paypal",
            secret_key=SECRET,
            paypal=gateway_configs.PayPalCredentials(CLIENT_ID, WEBHOOK_ID),
        ).id


def payment(payment_id: str) -> Payment:
    with session_scope(readonly=True) as db:
        found = db.get(Payment, payment_id)
        assert found is not None
        db.expunge(found)
        return found
