"""Checkout sessions: the merchant API and the customer paying, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import NotFound, ValidationFailed
from backend.models import CheckoutSession, DomainEvent, OutboundEmail, Payment
from backend.services.checkout import paying
from backend.services.webhooks.outbound.signing import event_body
from tests.integration.api_client import Merchant, new_merchant

URLS = {"successUrl": "https://shop.test/thanks", "cancelUrl": "https://shop.test/cart"}


@pytest.fixture
def client(configured_app: str):  # type: ignore[no-untyped-def]
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def create(shop: Merchant, **body: object) -> dict:
    response = shop.post("/api/checkout/sessions", {"currency": "USD", **URLS, **body})
    assert response.status_code == 201, response.text
    return response.json()["session"]


def pay(session_id: str, token: str = "4242424242424242", email: str = "ann@example.com"):
    with session_scope() as db:
        result = paying.pay(db, session_id, token=token, customer_email=email)
    paying.send_receipt(result.receipt_email_id)
    return result


def test_create_with_line_items_and_read_it(shop: Merchant) -> None:
    session = create(
        shop,
        lineItems=[
            {"name": "Coffee beans", "quantity": 2, "unitAmountCents": 1250},
            {"name": "Grinder", "unitAmountCents": 4999},
        ],
        metadata={"cart": "c-1"},
    )
    assert session["status"] == "open"
    assert session["amountTotal"] == 2 * 1250 + 4999
    assert session["url"].endswith(f"/pay/{session['id']}")
    expires = datetime.fromisoformat(session["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    read = shop.get(f"/api/checkout/sessions/{session['id']}")
    assert read.status_code == 200
    assert read.json()["session"] == session


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (
            {"amountCents": 100, "lineItems": [{"name": "A", "unitAmountCents": 1}]},
            422,
            "lineItems",
        ),
        ({}, 422, "lineItems"),
        ({"amountCents": 0}, 422, "amountCents"),
        ({"amountCents": "100"}, 400, "amountCents"),
        ({"amountCents": 100, "currency": "XYZ"}, 422, "currency"),
        ({"amountCents": 100, "successUrl": "javascript:alert(1)"}, 422, "successUrl"),
        ({"amountCents": 100, "successUrl": "https://shop.test/thanks\n"}, 422, "successUrl"),
        ({"amountCents": 100, "cancelUrl": "https://shop.test/a\tb"}, 422, "cancelUrl"),
        (  # bank payments (ACH) are in US dollars only
            {"amountCents": 100, "currency": "EUR", "paymentMethods": ["card", "bank"]},
            422,
            "paymentMethods",
        ),
        ({"amountCents": 100, "paymentMethods": ["cash"]}, 400, "paymentMethods.0"),
        ({"amountCents": 100, "expiresAt": "2020-01-01T00:00:00Z"}, 422, "expiresAt"),
        ({"amountCents": 100, "expiresAt": 32503680000}, 422, "expiresAt"),
        ({"amountCents": 100, "customerEmail": "not-an-email"}, 422, "customerEmail"),
        ({"amountCents": 100, "unknown": 1}, 400, "unknown"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(shop: Merchant, body, status, param) -> None:
    response = shop.post("/api/checkout/sessions", {"currency": "USD", **URLS, **body})
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    with session_scope() as db:
        mine = select(CheckoutSession).where(CheckoutSession.merchant_id == shop.merchant_id)
        assert db.exec(mine).all() == []


def test_idempotent_creation(shop: Merchant) -> None:
    body = {"amountCents": 500, "currency": "USD", **URLS}
    first = shop.post("/api/checkout/sessions", body, key="cs-1")
    again = shop.post("/api/checkout/sessions", body, key="cs-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = shop.post("/api/checkout/sessions", {**body, "amountCents": 600}, key="cs-1")
    assert other.status_code == 409


def test_another_merchants_session_is_not_found(client: TestClient, shop: Merchant) -> None:
    session = create(shop, amountCents=500)
    other = new_merchant(client, "Other")
    assert other.get(f"/api/checkout/sessions/{session['id']}").status_code == 404
    assert other.post(f"/api/checkout/sessions/{session['id']}/expire").status_code == 404
    assert shop.get("/api/checkout/sessions/cs_nope").status_code == 404


def test_pay_completes_the_session_once_with_event_and_receipt(shop: Merchant) -> None:
    session = create(shop, lineItems=[{"name": "Tea", "quantity": 3, "unitAmountCents": 400}])
    result = pay(session["id"])
    assert result.status == "complete"
    read = shop.get(f"/api/checkout/sessions/{session['id']}").json()["session"]
    assert read["status"] == "complete"
    payment = shop.get(f"/api/payments/{read['paymentId']}").json()["payment"]
    assert (payment["status"], payment["amountCaptured"]) == ("succeeded", 1200)
    assert payment["paymentMethod"]["last4"] == "4242"
    again = pay(session["id"])  # a refresh, a second click: no second payment
    assert again.status == "complete" and again.payment.id == read["paymentId"]
    with session_scope() as db:
        assert len(db.exec(select(Payment).where(Payment.order_id == read["orderId"])).all()) == 1
        completed = db.exec(
            select(DomainEvent).where(
                DomainEvent.type == "checkout.session.completed",
                DomainEvent.merchant_id == shop.merchant_id,
            )
        ).all()
        assert len(completed) == 1
        body = event_body(completed[0]).decode()
        assert session["id"] in body and read["paymentId"] in body
        mails = db.exec(select(OutboundEmail).where(OutboundEmail.merchant_id == shop.merchant_id))
        receipt = mails.one()
    assert receipt.status == "sent" and receipt.template == "checkout_receipt"
    assert "$12.00" in receipt.text_body and "4242" in receipt.text_body
    assert "4242424242424242" not in receipt.text_body
    assert shop.post(f"/api/checkout/sessions/{session['id']}/expire").status_code == 409


def test_decline_then_success_on_the_same_session(shop: Merchant) -> None:
    session = create(shop, amountCents=2500)
    declined = pay(session["id"], "4000000000009995")
    assert (declined.status, declined.error_code) == ("declined", "insufficient_funds")
    assert shop.get(f"/api/checkout/sessions/{session['id']}").json()["session"]["status"] == "open"
    assert pay(session["id"]).status == "complete"


def test_three_d_secure_approve_and_fail(shop: Merchant) -> None:
    session = create(shop, amountCents=3000)
    challenged = pay(session["id"], "4000002500003155")
    assert challenged.status == "requires_action"
    # A refresh or a second tab during the challenge shows the same challenge, no new payment.
    assert pay(session["id"]).status == "requires_action"
    with session_scope() as db:
        failed = paying.finish_action(db, session["id"], approved=False)
    assert (failed.status, failed.error_code) == ("declined", "authentication_failed")
    assert pay(session["id"], "4000002500003155").status == "requires_action"
    with session_scope() as db:
        done = paying.finish_action(db, session["id"], approved=True)
    assert done.status == "complete"
    payment = shop.get(f"/api/payments/{done.payment.id}").json()["payment"]
    assert payment["status"] == "succeeded" and payment["netAmount"] > 0


def test_expire_then_no_payment(shop: Merchant) -> None:
    session = create(shop, amountCents=900)
    expired = shop.post(f"/api/checkout/sessions/{session['id']}/expire")
    assert expired.json()["session"]["status"] == "expired"
    assert shop.post(f"/api/checkout/sessions/{session['id']}/expire").status_code == 200
    assert pay(session["id"]).status == "expired"
    with session_scope() as db:
        assert db.exec(select(Payment).where(Payment.merchant_id == shop.merchant_id)).all() == []
        assert db.exec(
            select(DomainEvent).where(
                DomainEvent.type == "checkout.session.expired",
                DomainEvent.merchant_id == shop.merchant_id,
            )
        ).one()


def test_expiry_time_passing_expires_on_read(shop: Merchant) -> None:
    session = create(shop, amountCents=900)
    with session_scope() as db:
        row = db.get(CheckoutSession, session["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.add(row)
    assert shop.get(f"/api/checkout/sessions/{session['id']}").json()["session"]["status"] == (
        "expired"
    )


def test_customer_mistakes_are_refused(shop: Merchant) -> None:
    session = create(shop, amountCents=900)
    with pytest.raises(ValidationFailed) as caught:
        pay(session["id"], "4111111111111111")
    assert caught.value.code == "not_a_test_card" and "4111" not in caught.value.message
    with pytest.raises(ValidationFailed):
        pay(session["id"], email="nope")
    with pytest.raises(NotFound):
        pay("cs_unknown")


def test_two_tabs_paying_at_once_charge_once(shop: Merchant) -> None:
    session = create(shop, amountCents=4200)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def tab() -> None:
        barrier.wait()
        results.append(pay(session["id"]).status)

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["complete"] * 4
    with session_scope() as db:
        paid = db.exec(
            select(Payment).where(
                Payment.status == "succeeded", Payment.merchant_id == shop.merchant_id
            )
        ).all()
    assert len(paid) == 1


def _events(shop: Merchant, type_: str) -> list[DomainEvent]:
    with session_scope() as db:
        return list(
            db.exec(
                select(DomainEvent).where(
                    DomainEvent.type == type_, DomainEvent.merchant_id == shop.merchant_id
                )
            ).all()
        )


def test_the_sweep_expires_overdue_sessions_nobody_reads(shop: Merchant) -> None:
    from backend.tasks.checkout import settle_due

    overdue, fresh = create(shop, amountCents=900), create(shop, amountCents=900)
    with session_scope() as db:
        row = db.get(CheckoutSession, overdue["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.add(row)
    assert settle_due() == 1
    assert len(_events(shop, "checkout.session.expired")) == 1
    with session_scope() as db:
        assert db.get(CheckoutSession, overdue["id"]).status == "expired"
        assert db.get(CheckoutSession, fresh["id"]).status == "open"
    assert settle_due() == 0  # settled once: the next sweep finds nothing


def test_the_sweep_completes_a_session_whose_order_was_paid_off_the_page(shop: Merchant) -> None:
    from backend.tasks.checkout import settle_due

    session = create(shop, amountCents=2500, customerEmail="ann@example.com")
    charged = shop.post(
        "/api/payments/charge",
        {
            "orderId": session["orderId"],
            "paymentMethod": {"type": "card", "token": "pm_card_visa"},
        },
    )
    assert charged.status_code == 201, charged.text
    assert settle_due() == 1
    read = shop.get(f"/api/checkout/sessions/{session['id']}").json()["session"]
    assert (read["status"], read["paymentId"]) == ("complete", charged.json()["payment"]["id"])
    assert len(_events(shop, "checkout.session.completed")) == 1
    with session_scope() as db:
        receipt = db.exec(
            select(OutboundEmail).where(OutboundEmail.merchant_id == shop.merchant_id)
        ).one()
    assert receipt.status == "sent" and "$25.00" in receipt.text_body
