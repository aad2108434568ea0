"""PayPal through the merchant REST API, as Stripe's PaymentIntents: a charge (or an
authorization) with paymentMethod.type "paypal" waits in requires_action with a nextAction that
sends the buyer to PayPal's approval page, and POST /api/payments/{id}/confirm finishes it once
the buyer is back, through the one path that finishes payments waiting for their customer
(authentication.finish). The real PayPal client talks to tests/fakes/paypal_api.py; without a
PayPal processor, test mode uses PayPal's offline twin and our own test approval page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.models import Order, Payment
from backend.models.ledger import BalanceTransaction
from tests.fakes.paypal_api import FakePayPal
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import assert_ledger_consistent
from tests.integration.paypal_support import add_paypal, payment
from tests.integration.stripe_support import platform_stripe

pytest_plugins = ("tests.integration.paypal_support",)  # its fixtures: fake, client, shop

BACK = {"returnUrl": "https://shop.test/paypal/back", "cancelUrl": "https://shop.test/paypal/no"}


def paypal_body(amount: int = 2000, **extra: Any) -> dict[str, Any]:
    return {
        "amountCents": amount,
        "currency": "USD",
        "paymentMethod": {"type": "paypal"},
        **BACK,
        **extra,
    }


def start(shop: Merchant, path: str = "/api/payments/charge", **extra: Any) -> dict[str, Any]:
    response = shop.post(path, paypal_body(**extra))
    assert response.status_code == 201, response.text
    found = response.json()["payment"]
    assert found["status"] == "requires_action"
    return found


def confirm(shop: Merchant, payment_id: str, body: Any = None, key: str | None = None) -> Any:
    return shop.post(f"/api/payments/{payment_id}/confirm", body, key=key)


def bookings(payment_id: str) -> list[str]:
    """The payment's balance transactions, by type (its charge and its fees)."""
    with session_scope(readonly=True) as db:
        return sorted(
            db.exec(
                select(BalanceTransaction.type).where(BalanceTransaction.source_id == payment_id)
            ).all()
        )


def booked_once(payment_id: str) -> None:
    types = bookings(payment_id)
    assert types and len(types) == len(set(types)), types


def written(merchant_id: str) -> tuple[int, int]:
    with session_scope(readonly=True) as db:
        payments = db.exec(
            select(func.count()).select_from(Payment).where(Payment.merchant_id == merchant_id)
        ).one()
        orders = db.exec(
            select(func.count()).select_from(Order).where(Order.merchant_id == merchant_id)
        ).one()
    return payments, orders


def test_charge_waits_for_paypal_and_confirm_captures_once(
    shop: Merchant, fake: FakePayPal
) -> None:
    config_id = add_paypal(shop)
    started = start(shop)
    order_id = started["gatewayPaymentId"]
    assert started["gatewayType"] == "paypal" and order_id in fake.orders
    assert started["paymentMethod"]["type"] == "paypal"
    assert started["nextAction"] == {
        "type": "redirect_to_url",
        "redirectToUrl": {
            "url": f"{fake.url}/checkoutnow?token={order_id}",
            "returnUrl": BACK["returnUrl"],
        },
        "useStripeSdk": None,
    }
    created = fake.calls("POST", "/v2/checkout/orders")[0]
    context = created.body["payment_source"]["paypal"]["experience_context"]
    assert (context["return_url"], context["cancel_url"]) == (
        BACK["returnUrl"],
        BACK["cancelUrl"],
    )
    assert payment(started["id"]).gateway_config_id == config_id
    assert (
        shop.get(f"/api/payments/{started['id']}").json()["payment"]["nextAction"]
        == (started["nextAction"])
    )

    # Back before approving (the return URL proves nothing): PayPal's state decides, still waiting.
    early = confirm(shop, started["id"])
    assert early.status_code == 200, early.text
    assert early.json()["payment"]["status"] == "requires_action"
    assert early.json()["payment"]["nextAction"] == started["nextAction"]
    assert bookings(started["id"]) == []

    fake.approve(order_id)
    done = confirm(shop, started["id"], key="confirm-1")
    assert done.status_code == 200, done.text
    paid = done.json()["payment"]
    assert (paid["status"], paid["amountCaptured"], paid["nextAction"]) == ("succeeded", 2000, None)
    assert paid["netAmount"] == 2000 - paid["platformFee"] - paid["gatewayFee"]
    assert len(fake.orders[order_id].captures) == 1
    booked_once(started["id"])
    assert_ledger_consistent(shop.merchant_id)

    # A replay answers the same and books nothing more; a new confirm is refused.
    again = confirm(shop, started["id"], key="confirm-1")
    assert (again.status_code, again.json()) == (200, done.json())
    refused = confirm(shop, started["id"], key="confirm-2")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "payment_not_awaiting_action"
    assert "succeeded" in refused.json()["error"]["message"]
    assert len(fake.orders[order_id].captures) == 1
    booked_once(started["id"])
    assert shop.get(f"/api/payments/{started['id']}").json()["payment"]["nextAction"] is None


def test_authorize_through_paypal_then_capture(shop: Merchant, fake: FakePayPal) -> None:
    add_paypal(shop)
    started = start(shop, "/api/payments/authorize")
    fake.approve(started["gatewayPaymentId"])
    held = confirm(shop, started["id"])
    assert held.status_code == 200, held.text
    assert (held.json()["payment"]["status"], held.json()["payment"]["amountCaptured"]) == (
        "authorized",
        0,
    )
    captured = shop.post(f"/api/payments/{started['id']}/capture", {"amountCents": 1500})
    assert captured.status_code == 200, captured.text
    assert captured.json()["payment"]["amountCaptured"] == 1500
    assert_ledger_consistent(shop.merchant_id)


def test_buyer_cancel_fails_the_payment(shop: Merchant, fake: FakePayPal) -> None:
    add_paypal(shop)
    started = start(shop)
    fake.cancel(started["gatewayPaymentId"])
    response = confirm(shop, started["id"], {"approved": False})
    assert response.status_code == 200, response.text
    ended = response.json()["payment"]
    assert ended["status"] == "failed" and ended["failure"]["code"] == "payment_canceled"
    assert ended["nextAction"] is None
    assert fake.orders[started["gatewayPaymentId"]].captures == []
    assert bookings(started["id"]) == []
    assert confirm(shop, started["id"]).status_code == 409
    # Only the buyer approves, at PayPal: the merchant can say "cancelled", never "approved".
    assert confirm(shop, started["id"], {"approved": True}).status_code == 400


def test_confirm_refuses_what_does_not_wait_or_is_not_yours(shop: Merchant) -> None:
    card = shop.post(
        "/api/payments/charge",
        {"amountCents": 1000, "currency": "USD", "paymentMethod": {"token": "pm_card_visa"}},
    )
    assert card.status_code == 201, card.text
    assert card.json()["payment"]["nextAction"] is None
    not_waiting = confirm(shop, card.json()["payment"]["id"])
    assert not_waiting.status_code == 409
    assert not_waiting.json()["error"]["code"] == "payment_not_awaiting_action"

    started = start(shop)  # the offline twin: no PayPal processor in test mode
    other = new_merchant(shop.client, "Other")
    assert confirm(other, started["id"]).status_code == 404
    assert other.get(f"/api/payments/{started['id']}").status_code == 404
    assert confirm(shop, "pay_doesnotexist").status_code == 404
    assert payment(started["id"]).status == "requires_action"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"returnUrl": "/paypal/back"}, "returnUrl"),
        ({"returnUrl": "javascript:alert(1)"}, "returnUrl"),
        ({"cancelUrl": "https://shop.test/\x00no"}, "cancelUrl"),
        ({"returnUrl": "ftp://shop.test/back"}, "returnUrl"),
        ({"returnUrl": None}, "returnUrl"),
        ({"cancelUrl": None}, "cancelUrl"),
        ({"paymentMethod": {"type": "paypal", "token": "pm_card_visa"}}, "paymentMethod.token"),
        ({"paymentMethod": {"type": "card"}}, "paymentMethod.token"),
        ({"paymentMethod": {"type": "card", "token": "pm_card_visa"}}, "returnUrl"),
    ],
)
def test_bad_paypal_requests_write_nothing(
    shop: Merchant, fake: FakePayPal, change: dict[str, Any], param: str
) -> None:
    add_paypal(shop)
    body = {key: value for key, value in {**paypal_body(), **change}.items() if value is not None}
    before = written(shop.merchant_id)
    response = shop.post("/api/payments/charge", body)
    assert 400 <= response.status_code < 500, response.text
    assert response.status_code != 404
    error = response.json()["error"]
    assert param in (error.get("param") or "") + error["message"], error
    assert written(shop.merchant_id) == before
    assert fake.calls("POST", "/v2/checkout/orders") == []


@pytest.mark.parametrize("approve", [True, False])
def test_offline_twin_plays_the_approval_on_our_page(shop: Merchant, approve: bool) -> None:
    started = start(shop)  # no PayPal processor: routing's offline twin, test mode
    assert started["gatewayPaymentId"].startswith("sbxpp_")
    page = f"/api/test-approval/{started['id']}"
    assert started["nextAction"]["redirectToUrl"] == {
        "url": f"{get_settings().app_url}{page}",
        "returnUrl": BACK["returnUrl"],
    }
    shown = shop.client.get(page)
    assert shown.status_code == 200 and "$20.00" in shown.text
    assert confirm(shop, started["id"]).json()["payment"]["status"] == "requires_action"

    answered = shop.client.post(f"{page}/{'approve' if approve else 'cancel'}")
    assert answered.status_code == 200
    assert BACK["returnUrl" if approve else "cancelUrl"] in answered.text
    done = confirm(shop, started["id"], key="twin-confirm")
    assert done.status_code == 200, done.text
    ended = done.json()["payment"]
    if approve:
        assert (ended["status"], ended["amountCaptured"]) == ("succeeded", 2000)
        booked_once(started["id"])
    else:
        assert (ended["status"], ended["failure"]["code"]) == ("failed", "payment_canceled")
        assert bookings(started["id"]) == []
    assert_ledger_consistent(shop.merchant_id)
    # The page answers only a payment that waits.
    assert shop.client.get(page).status_code == 404
    assert shop.client.post(f"{page}/approve").status_code == 404


def test_one_next_action_for_three_d_secure_too(shop: Merchant) -> None:
    started = shop.post(
        "/api/payments/charge",
        {"amountCents": 1500, "currency": "USD", "paymentMethod": {"token": "4000002500003155"}},
    )
    assert started.status_code == 201, started.text
    waiting = started.json()["payment"]
    assert waiting["status"] == "requires_action"
    url = waiting["nextAction"]["redirectToUrl"]["url"]
    assert url == f"{get_settings().app_url}/api/test-approval/{waiting['id']}"
    assert waiting["nextAction"]["redirectToUrl"]["returnUrl"] is None
    assert shop.client.post(f"/api/test-approval/{waiting['id']}/approve").status_code == 200
    done = confirm(shop, waiting["id"])
    assert done.status_code == 200, done.text
    assert done.json()["payment"]["status"] == "succeeded"
    assert_ledger_consistent(shop.merchant_id)


def test_paypal_down_at_confirm_leaves_the_payment_waiting(
    shop: Merchant, fake: FakePayPal
) -> None:
    add_paypal(shop)
    started = start(shop)
    fake.approve(started["gatewayPaymentId"])
    fake.fail_next(2, 503)  # the order's read and its one retry
    down = confirm(shop, started["id"], key="down-1")
    assert down.status_code == 503, down.text
    assert down.json()["error"]["code"] == "gateway_unavailable"
    assert down.json()["payment"]["status"] == "requires_action"
    assert bookings(started["id"]) == []
    assert fake.orders[started["gatewayPaymentId"]].captures == []
    done = confirm(shop, started["id"], key="down-2")
    assert done.status_code == 200, done.text
    assert done.json()["payment"]["status"] == "succeeded"
    booked_once(started["id"])
    assert_ledger_consistent(shop.merchant_id)


def test_stripe_three_d_secure_is_the_same_field(
    configured_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Stripe card asking for 3-D Secure: nextAction says use_stripe_sdk with the
    PaymentIntent's client secret; confirm reads the outcome once the customer passed."""
    from fastapi.testclient import TestClient

    from backend.api import create_app

    with (
        platform_stripe(monkeypatch, "sk_test_fake_paypal_api") as stripe,
        TestClient(create_app()) as client,
    ):
        shop = new_merchant(client)
        card = {"type": "card", "token": "pm_card_authenticationRequired"}
        started = shop.post(
            "/api/payments/charge", {"amountCents": 1200, "currency": "USD", "paymentMethod": card}
        )
        assert started.status_code == 201, started.text
        waiting = started.json()["payment"]
        assert (waiting["status"], waiting["gatewayType"]) == ("requires_action", "stripe")
        action = waiting["nextAction"]
        assert (action["type"], action["redirectToUrl"]) == ("use_stripe_sdk", None)
        assert action["useStripeSdk"]["clientSecret"].startswith(waiting["gatewayPaymentId"])
        assert confirm(shop, waiting["id"]).json()["payment"]["status"] == "requires_action"
        stripe.complete_authentication(waiting["gatewayPaymentId"], succeed=True)
        done = confirm(shop, waiting["id"])
        assert done.status_code == 200, done.text
        assert (done.json()["payment"]["status"], done.json()["payment"]["nextAction"]) == (
            "succeeded",
            None,
        )
        booked_once(waiting["id"])
        assert_ledger_consistent(shop.merchant_id)
