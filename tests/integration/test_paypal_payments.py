"""PayPal end to end on the server: a merchant's PayPal processor (its credentials encrypted),
routing choosing it, the hosted checkout's approval step (PayPal's page on the local fake, or
the offline twin's own step), refunds, and PayPal's webhooks stored and applied by the job
runner through the booking path. The real PayPal client talks to tests/fakes/paypal_api.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import GatewayConfig, InboundWebhookEvent, Refund
from backend.services.checkout import paying
from backend.services.context import Scope
from backend.services.payments import gateway_configs, operations, routing
from tests.fakes.paypal_api import FakePayPal
from tests.integration.api_client import Merchant
from tests.integration.paypal_support import CLIENT_ID, SECRET, WEBHOOK_ID, add_paypal, payment

pytest_plugins = ("tests.integration.paypal_support",)  # its fixtures: fake, client, shop

URLS = {"successUrl": "https://shop.test/ok", "cancelUrl": "https://shop.test/no"}
EMAIL = "buyer@example.com"


def new_session(shop: Merchant, methods: list[str] | None = None, amount: int = 2000) -> str:
    body: dict[str, Any] = {"amountCents": amount, "currency": "USD", **URLS}
    body["paymentMethods"] = methods or ["card", "paypal"]
    response = shop.post("/api/checkout/sessions", body)
    assert response.status_code == 201, response.text
    return response.json()["session"]["id"]


def pay_paypal(sid: str, email: str | None = EMAIL) -> paying.PayResult:
    with session_scope() as db:
        return paying.pay(db, sid, token="", customer_email=email, method="paypal")


def finish(sid: str, approved: bool | None) -> paying.PayResult:
    with session_scope() as db:
        return paying.finish_action(db, sid, approved=approved)


def deliver(client: TestClient, fake: FakePayPal, config_id: str, event: dict[str, Any]):  # type: ignore[no-untyped-def]
    body = json.dumps(event).encode()
    return client.post(
        f"/api/webhooks/paypal/{config_id}",
        content=body,
        headers={**fake.signed(event), "Content-Type": "application/json"},
    )


def event_row(event_id: str) -> InboundWebhookEvent:
    with session_scope(readonly=True) as db:
        row = db.exec(
            select(InboundWebhookEvent).where(InboundWebhookEvent.event_id == event_id)
        ).one()
        db.expunge(row)
        return row


# -- configuration --------------------------------------------------------------------------


def test_paypal_processor_keeps_its_credentials_encrypted(shop: Merchant) -> None:
    config_id = add_paypal(shop)
    with session_scope(readonly=True) as db:
        config = db.get(GatewayConfig, config_id)
        assert config is not None
        assert SECRET not in (config.credentials_encrypted or "")
        assert CLIENT_ID not in (config.credentials_encrypted or "")
        assert gateway_configs.paypal_credentials(config) == (
            CLIENT_ID,
            SECRET,
            "sandbox",
            WEBHOOK_ID,
        )
        masked = gateway_configs.masked_key(config)
        assert masked is not None and SECRET[-4:] not in masked


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"secret_key": SECRET}, "client_id"),
        ({"paypal": gateway_configs.PayPalCredentials(CLIENT_ID)}, "secret_key"),
        (
            {"secret_key": "short", "paypal": gateway_configs.PayPalCredentials(CLIENT_ID)},
            "secret_key",
        ),
        (
            {
                "secret_key": SECRET,
                "paypal": gateway_configs.PayPalCredentials("bad id; drop", None),
            },
            "client_id",
        ),
        (
            {
                "secret_key": SECRET,
                "paypal": gateway_configs.PayPalCredentials(CLIENT_ID, "no/hooks"),
            },
            "webhook_id",
        ),
        (
            {
                "secret_key": SECRET,
                "webhook_secret": "whsec_" + "a" * 30,
                "paypal": gateway_configs.PayPalCredentials(CLIENT_ID),
            },
            "webhook_secret",
        ),
    ],
)
def test_paypal_processor_refuses_bad_credentials(
    shop: Merchant, kwargs: dict[str, Any], param: str
) -> None:
    with session_scope() as db, pytest.raises(ValidationFailed) as refused:
        gateway_configs.add(db, Scope(shop.merchant_id, False), gateway="paypal", **kwargs)
    assert refused.value.param == param


def test_routing_sends_paypal_to_paypal_and_cards_elsewhere(shop: Merchant) -> None:
    add_paypal(shop)
    with session_scope(readonly=True) as db:
        common = {"merchant_id": shop.merchant_id, "amount": 1000, "currency": "USD"}
        paypal_routes = routing.candidate_routes(db, livemode=False, method="paypal", **common)
        card_routes = routing.candidate_routes(db, livemode=False, method="card", **common)
        with pytest.raises(ValidationFailed) as live:
            routing.candidate_routes(db, livemode=True, method="paypal", **common)
        with pytest.raises(ValidationFailed):
            routing.candidate_routes(
                db, livemode=False, method="card", requested="paypal", **common
            )
    assert [r.name for r in paypal_routes] == ["paypal"]
    assert type(paypal_routes[0].gateway).__name__ == "PayPalGateway"
    assert [r.name for r in card_routes] == ["sandbox"]
    assert live.value.code == "gateway_not_configured"


def test_a_payment_link_offers_paypal_when_a_paypal_processor_takes_it(shop: Merchant) -> None:
    from backend.services.checkout import payment_links

    scope = Scope(shop.merchant_id, False)
    with session_scope() as db:
        link = payment_links.create_link(
            db, scope, name="Tea tasting", currency="USD", unit_amount=1250, max_quantity=10
        ).id
    with session_scope() as db:  # no PayPal processor: cards only
        assert payment_links.start_session(db, link).payment_methods == ["card"]
    config_id = add_paypal(shop)
    with session_scope() as db:
        assert payment_links.start_session(db, link).payment_methods == ["card", "paypal"]
        # Its rules decide, for this visit's amount: $12.50 x 3 is above its $30 limit.
        gateway_configs.update(
            db,
            scope,
            config_id,
            rules=gateway_configs.Rules(currencies=("USD",), max_amount=3000),
        )
    with session_scope() as db:
        assert payment_links.start_session(db, link, quantity=2).payment_methods == [
            "card",
            "paypal",
        ]
        assert payment_links.start_session(db, link, quantity=3).payment_methods == ["card"]


# -- the offline twin -----------------------------------------------------------------------


def test_twin_approval_completes_the_checkout(shop: Merchant, fake: FakePayPal) -> None:
    sid = new_session(shop)
    started = pay_paypal(sid)
    assert started.status == "requires_action"
    assert started.action_url is None  # the twin's approval step is the page's own
    assert started.payment.gateway == "paypal" and started.payment.gateway_config_id is None
    assert finish(sid, None).status == "requires_action"  # no answer yet
    done = finish(sid, True)
    assert done.status == "complete"
    paid = payment(done.payment.id)
    assert (paid.status, paid.payment_method_type, paid.amount_captured) == (
        "succeeded",
        "paypal",
        2000,
    )
    assert paid.gateway_fee == 70 + 49  # PayPal's standard price: 3.49% of 20.00 (69.8) + 0.49
    assert not fake.requests  # offline: nothing reached PayPal


def test_twin_cancel_leaves_the_session_open(shop: Merchant) -> None:
    """Cancelling at PayPal is the customer's choice: told as such, never counted as a decline
    (however often), and the session still takes a card."""
    from backend.services.checkout import card_testing

    sid = new_session(shop)
    for _ in range(card_testing.MAX_SESSION_DECLINES + 1):
        assert pay_paypal(sid).status == "requires_action"
        cancelled = finish(sid, False)
        assert (cancelled.status, cancelled.error_code) == ("declined", "payment_canceled")
    assert payment(cancelled.payment.id).failure_code == "payment_canceled"
    with session_scope() as db:
        again = paying.pay(db, sid, token="4242424242424242", customer_email=EMAIL)
    assert again.status == "complete"


def test_paypal_needs_no_email_from_the_customer(shop: Merchant) -> None:
    sid = new_session(shop)
    assert pay_paypal(sid, email=None).status == "requires_action"
    assert finish(sid, True).status == "complete"


def test_checkout_refuses_a_method_it_does_not_offer(shop: Merchant) -> None:
    sid = new_session(shop, ["card"])
    with session_scope() as db, pytest.raises(ValidationFailed):
        paying.pay(db, sid, token="", customer_email=EMAIL, method="paypal")


# -- PayPal through the fake ----------------------------------------------------------------


def test_checkout_through_paypal_approval_page(shop: Merchant, fake: FakePayPal) -> None:
    config_id = add_paypal(shop)
    sid = new_session(shop)
    started = pay_paypal(sid)
    assert started.status == "requires_action"
    order_id = started.payment.gateway_payment_id
    assert started.payment.gateway_config_id == config_id
    assert started.action_url == f"{fake.url}/checkoutnow?token={order_id}"
    created = fake.calls("POST", "/v2/checkout/orders")[0]
    context = created.body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"].endswith(f"/pay/{sid}?paypal=return")
    assert created.body["purchase_units"][0]["custom_id"] == started.payment.id

    # Back on our page before approving (the return URL proves nothing): still waiting, and
    # opening the page again (a reload, another tab) gives PayPal's link again.
    assert finish(sid, None).status == "requires_action"
    with session_scope() as db:
        reopened = paying.open_session(db, sid)
    assert (reopened.status, reopened.action_url) == ("requires_action", started.action_url)
    with session_scope() as db:
        second_tab = paying.pay(db, sid, token="", customer_email=EMAIL, method="paypal")
    assert second_tab.payment.id == started.payment.id and len(fake.orders) == 1
    fake.approve(order_id)
    done = finish(sid, None)
    assert done.status == "complete"
    assert payment(done.payment.id).status == "succeeded"
    assert len(fake.orders[order_id].captures) == 1

    with session_scope() as db:
        _, refund = operations.refund(
            db, Scope(shop.merchant_id, False), done.payment.id, amount=500
        )
        refund_id = refund.id
    paid = payment(done.payment.id)
    assert (paid.amount_refunded, paid.status) == (500, "partially_refunded")

    # PayPal's events about all this arrive: each is stored and changes nothing more.
    for event in list(fake.events):
        response = deliver(shop.client, fake, config_id, event)
        assert response.status_code == 200, response.text
        assert event_row(event["id"]).status in ("processed", "ignored")
    after = payment(done.payment.id)
    assert (after.amount_captured, after.amount_refunded) == (2000, 500)
    with session_scope(readonly=True) as db:
        refunds = db.exec(select(Refund).where(Refund.payment_id == done.payment.id)).all()
    assert [r.id for r in refunds] == [refund_id]
    # A replay is acknowledged as a duplicate and changes nothing.
    again = deliver(shop.client, fake, config_id, fake.events[-1])
    assert again.json()["duplicate"] is True


def test_declined_funding_leaves_the_session_open(shop: Merchant, fake: FakePayPal) -> None:
    add_paypal(shop)
    sid = new_session(shop)
    order_id = pay_paypal(sid).payment.gateway_payment_id
    fake.approve(order_id, funding="declined")
    declined = finish(sid, None)
    assert (declined.status, declined.error_code) == ("declined", "card_declined")
    assert payment(declined.payment.id).failure_code == "card_declined"


def test_paypal_down_when_paying_fails_cleanly(shop: Merchant, fake: FakePayPal) -> None:
    """A 5xx may have acted: PayPal is asked once more with the same PayPal-Request-Id (one
    order, never two); when it fails again the payment fails cleanly and nothing is charged."""
    add_paypal(shop)
    sid = new_session(shop)
    fake.fail_next(1, 503, after_processing=True)
    retried = pay_paypal(sid)
    assert retried.status == "requires_action"
    assert len(fake.orders) == 1
    sent = fake.calls("POST", "/v2/checkout/orders")
    assert len({r.headers["paypal-request-id"] for r in sent}) == 1 and len(sent) == 2

    other = new_session(shop)
    fake.fail_next(2, 503)
    result = pay_paypal(other)
    assert (result.status, result.error_code) == ("declined", "unavailable")
    assert payment(result.payment.id).failure_code == "gateway_outcome_unknown"


def test_approval_webhook_finishes_a_buyer_who_never_came_back(
    shop: Merchant, fake: FakePayPal
) -> None:
    config_id = add_paypal(shop)
    sid = new_session(shop)
    started = pay_paypal(sid)
    order_id = started.payment.gateway_payment_id
    fake.approve(order_id)
    approved = fake.events[-1]
    assert approved["event_type"] == "CHECKOUT.ORDER.APPROVED"
    response = deliver(shop.client, fake, config_id, approved)
    assert response.status_code == 200, response.text
    assert event_row(approved["id"]).status == "processed"
    assert payment(started.payment.id).status == "succeeded"
    assert shop.get(f"/api/checkout/sessions/{sid}").json()["session"]["status"] == "complete"
    # The capture event that follows, and the buyer coming back late, change nothing.
    captured = fake.events[-1]
    assert captured["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    assert deliver(shop.client, fake, config_id, captured).status_code == 200
    assert finish(sid, None).status == "complete"
    assert len(fake.orders[order_id].captures) == 1
    assert payment(started.payment.id).amount_captured == 2000


def test_refund_made_at_paypal_is_booked_from_its_event(shop: Merchant, fake: FakePayPal) -> None:
    """A refund whose API answer was lost (or made at PayPal naming the order) is booked once."""
    config_id = add_paypal(shop)
    sid = new_session(shop)
    order_id = pay_paypal(sid).payment.gateway_payment_id
    fake.approve(order_id)
    done = finish(sid, None)
    capture_id = fake.orders[order_id].captures[0]["id"]
    # The merchant refunds 3.00 at PayPal itself, naming the order (our API is bypassed).
    token = httpx.post(
        f"{fake.url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, SECRET),
    ).json()["access_token"]
    httpx.post(
        f"{fake.url}/v2/payments/captures/{capture_id}/refund",
        json={"amount": {"currency_code": "USD", "value": "3.00"}, "custom_id": order_id},
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    event = fake.events[-1]
    assert event["event_type"] == "PAYMENT.CAPTURE.REFUNDED"
    assert deliver(shop.client, fake, config_id, event).status_code == 200
    assert deliver(shop.client, fake, config_id, event).json()["duplicate"] is True
    paid = payment(done.payment.id)
    assert (paid.amount_refunded, paid.status) == (300, "partially_refunded")


# -- the webhook endpoint refuses what is not PayPal's ---------------------------------------


def test_webhook_endpoint_refuses_bad_input_without_a_500(shop: Merchant, fake: FakePayPal) -> None:
    config_id = add_paypal(shop)
    event = {
        "id": "WH-1",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "create_time": "2026-01-01T00:00:00Z",
        "resource": {"id": "CAP1"},
    }
    body = json.dumps(event).encode()
    url = f"/api/webhooks/paypal/{config_id}"
    post = shop.client.post
    assert post(url, content=body).status_code == 400  # no PAYPAL-* headers
    forged = {**fake.signed(event), "PAYPAL-TRANSMISSION-SIG": "Zm9yZ2Vk"}
    answer = post(url, content=body, headers=forged)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "signature_invalid")
    for garbage in (b"\xff\xfe", b"[]", b"{}", b'{"id": 1}', b"{" * 5000):
        assert post(url, content=garbage, headers=fake.signed(event)).status_code == 400
    assert post("/api/webhooks/paypal/gwc_nope", content=body).status_code == 404
    assert post("/api/webhooks/paypal/" + "x" * 500, content=body).status_code in (400, 404)
    fake.fail_next(1, 503)  # PayPal cannot confirm it now: it will send it again
    assert post(url, content=body, headers=fake.signed(event)).status_code == 503
    with session_scope(readonly=True) as db:
        assert db.exec(select(InboundWebhookEvent)).first() is None  # nothing half-written
    # Signed and verified, but for no payment of ours: stored, then ignored with its reason.
    answer = post(url, content=body, headers=fake.signed(event))
    assert answer.status_code == 200
    assert event_row("WH-1").status == "ignored"
