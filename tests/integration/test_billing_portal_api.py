"""Billing portal sessions through the REST API and the service the dunning e-mails call, on
SQLite and PostgreSQL: the link opens the customer's portal for 24 hours, only a hash of its
secret is kept, test keys reach test customers only, others' customers are not found, the
returnUrl is checked like a checkout's successUrl, idempotency replays, nothing half-written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import AuditLog, BillingPortalSession, utcnow
from backend.services.billing import portal_sessions
from backend.services.context import Scope
from backend.services.identity import api_keys
from tests.integration.api_client import Merchant, new_merchant


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def live(merchant: Merchant) -> Merchant:
    with session_scope() as db:
        issued = api_keys.issue_key(db, merchant.merchant_id, livemode=True, name="Live")
    return Merchant(merchant.client, merchant.merchant_id, issued.secret)


def customer(shop: Merchant, email: str = "ada@example.com") -> str:
    response = shop.post("/api/customers", {"email": email})
    assert response.status_code == 201, response.text
    return response.json()["customer"]["id"]


def sessions_count(shop: Merchant) -> int:
    """The merchant's sessions (the PostgreSQL database is shared by the session's tests)."""
    with session_scope(readonly=True) as db:
        return db.exec(
            select(func.count())
            .select_from(BillingPortalSession)
            .where(BillingPortalSession.merchant_id == shop.merchant_id)
        ).one()


def test_create_session_link_opens_the_customers_portal(shop: Merchant) -> None:
    cus = customer(shop)
    response = shop.post(
        "/api/billing_portal/sessions",
        {"customerId": cus, "returnUrl": "https://shop.example/account?x=1"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    session = body["session"]
    assert session["id"].startswith("bps_") and session["customerId"] == cus
    assert session["returnUrl"] == "https://shop.example/account?x=1"
    assert session["object"] == "billing_portal.session" and session["livemode"] is False
    prefix = "http://localhost:3000/billing/"
    assert session["url"].startswith(prefix)
    secret = session["url"].removeprefix(prefix)
    assert len(secret) >= 40

    with session_scope(readonly=True) as db:
        row = db.get(BillingPortalSession, session["id"])
        assert row is not None
        assert secret not in row.secret_hash and len(row.secret_hash) == 64  # a SHA-256 only
        lasts = row.expires_at - row.created_at
        assert lasts == timedelta(hours=24)
        assert session["expiresAt"].endswith("Z")
        audit = db.exec(select(AuditLog).where(AuditLog.object_id == row.id)).all()
        assert [a.action for a in audit] == ["billing_portal.session.created"]

        opened = portal_sessions.open_session(db, secret)
        assert opened.customer.id == cus and opened.scope == Scope(shop.merchant_id, False)
        for wrong in ("", secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x" * 500):
            with pytest.raises(NotFound):
                portal_sessions.open_session(db, wrong)


def test_an_expired_link_opens_nothing(shop: Merchant) -> None:
    cus = customer(shop)
    url = shop.post("/api/billing_portal/sessions", {"customerId": cus}).json()["session"]["url"]
    secret = url.rsplit("/", 1)[1]
    with session_scope() as db:
        row = db.exec(
            select(BillingPortalSession).where(BillingPortalSession.customer_id == cus)
        ).one()
        assert row.return_url is None
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    with session_scope(readonly=True) as db, pytest.raises(NotFound) as caught:
        portal_sessions.open_session(db, secret)
    assert caught.value.code == "session_expired"


def test_a_deleted_customers_link_opens_nothing(shop: Merchant) -> None:
    cus = customer(shop)
    url = shop.post("/api/billing_portal/sessions", {"customerId": cus}).json()["session"]["url"]
    shop.client.delete(f"/api/customers/{cus}", headers=shop.headers())
    with session_scope(readonly=True) as db, pytest.raises(NotFound):
        portal_sessions.open_session(db, url.rsplit("/", 1)[1])


def test_other_merchants_and_the_other_modes_customers_are_not_found(
    client: TestClient, shop: Merchant
) -> None:
    cus = customer(shop)
    other = new_merchant(client, "Other")
    for caller in (other, live(shop)):
        response = caller.post("/api/billing_portal/sessions", {"customerId": cus})
        assert response.status_code == 404, response.text
        assert response.json()["error"]["param"] == "customerId"
    # A live key makes sessions for live customers only, and they are live.
    live_shop = live(shop)
    live_customer = customer(live_shop)
    made = live_shop.post("/api/billing_portal/sessions", {"customerId": live_customer})
    assert made.status_code == 201 and made.json()["session"]["livemode"] is True
    refused = shop.post("/api/billing_portal/sessions", {"customerId": live_customer})
    assert refused.status_code == 404
    assert sessions_count(shop) == 1


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "customerId"),
        ({"customerId": 5}, 400, "customerId"),
        ({"customerId": "cus_x", "extra": 1}, 400, "extra"),
        ({"customerId": "CUS", "returnUrl": "javascript:alert(1)"}, 422, "returnUrl"),
        ({"customerId": "CUS", "returnUrl": "/relative"}, 422, "returnUrl"),
        ({"customerId": "CUS", "returnUrl": "https://a.example/ b"}, 422, "returnUrl"),
        ({"customerId": "CUS", "returnUrl": "ftp://a.example/"}, 422, "returnUrl"),
        ({"customerId": "CUS", "returnUrl": "https://a.example/" + "a" * 2000}, 400, "returnUrl"),
        ({"customerId": "cus_nobody"}, 404, "customerId"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    shop: Merchant, body: dict[str, Any], status: int, param: str
) -> None:
    cus = customer(shop)
    if body.get("customerId") == "CUS":
        body = {**body, "customerId": cus}
    response = shop.post("/api/billing_portal/sessions", body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert response.json()["success"] is False and error["param"] == param
    assert sessions_count(shop) == 0


def test_idempotent_create_and_no_key(client: TestClient, shop: Merchant) -> None:
    cus = customer(shop)
    first = shop.post("/api/billing_portal/sessions", {"customerId": cus}, key="bps-1")
    again = shop.post("/api/billing_portal/sessions", {"customerId": cus}, key="bps-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other = shop.post(
        "/api/billing_portal/sessions",
        {"customerId": cus, "returnUrl": "https://a.example/"},
        key="bps-1",
    )
    assert other.status_code == 409
    assert sessions_count(shop) == 1
    anonymous = client.post("/api/billing_portal/sessions", json={"customerId": cus})
    assert anonymous.status_code == 401
    assert sessions_count(shop) == 1


def test_service_for_dunning_emails(shop: Merchant) -> None:
    cus = customer(shop)
    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        session, url = portal_sessions.create_session(db, scope, cus)
        assert session.return_url is None and url.endswith(url.rsplit("/", 1)[1])
        with pytest.raises(ValidationFailed):
            portal_sessions.create_session(db, scope, cus, return_url="nope")
        with pytest.raises(NotFound):
            portal_sessions.create_session(db, Scope("mer_other", False), cus)
    with session_scope(readonly=True) as db:
        assert portal_sessions.open_session(db, url.rsplit("/", 1)[1]).session.id == session.id


def test_listed_in_the_api_reference(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/billing_portal/sessions"]["post"]
    assert operation["summary"].startswith("Create a customer's billing portal link")
