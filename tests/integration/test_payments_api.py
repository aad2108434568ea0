"""The merchant REST API end to end over HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.models import AuditLog, DomainEvent, Payment, PaymentAttempt
from tests.integration.api_client import Merchant, new_merchant


@pytest.fixture
def client(configured_app: str):  # type: ignore[no-untyped-def]
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client)


def invariant(payment: dict) -> None:
    """What stays captured is exactly fees plus net."""
    kept = payment["amountCaptured"] - payment["amountRefunded"]
    assert kept == payment["platformFee"] + payment["gatewayFee"] + payment["netAmount"]


# --- orders and authentication ------------------------------------------------------------------


def test_create_order_and_read_its_payments(shop: Merchant):
    response = shop.post(
        "/api/orders",
        {
            "amountCents": 2500,
            "currency": "eur",
            "reference": "A-1",
            "customerEmail": "Ann@Example.com",
        },
    )
    assert response.status_code == 201
    order = response.json()["order"]
    assert (order["amountCents"], order["currency"], order["status"]) == (2500, "EUR", "open")
    assert order["customerEmail"] == "ann@example.com"
    listed = shop.get(f"/api/orders/{order['id']}/payments")
    assert listed.status_code == 200
    assert listed.json() == {"success": True, "payments": []}


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"amountCents": 100, "currency": "XYZ"}, 422, "currency"),
        ({"amountCents": "100", "currency": "USD"}, 400, "amountCents"),
        ({"amountCents": 10.5, "currency": "USD"}, 400, "amountCents"),
        ({"amountCents": 0, "currency": "USD"}, 422, "amountCents"),
        ({"amountCents": 10**14, "currency": "USD"}, 422, "amountCents"),
        ({"currency": "USD"}, 400, "amountCents"),
        ({"amountCents": 100, "currency": "USD", "amount_cents": 1}, 400, "amount_cents"),
        ({"amountCents": 100, "currency": "USD", "customerEmail": "nope"}, 422, "customerEmail"),
    ],
)
def test_bad_order_input_is_a_clear_error(shop: Merchant, body: dict, status: int, param: str):
    response = shop.post("/api/orders", body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert response.json()["success"] is False
    assert error["param"] == param
    assert error["message"]


def test_malformed_json_and_huge_bodies_are_refused(shop: Merchant, client: TestClient):
    json_headers = {**shop.headers(), "Content-Type": "application/json"}
    response = client.post("/api/orders", content=b"{not json", headers=json_headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    huge = b'{"amountCents": 1, "currency": "USD", "reference": "' + b"x" * 1_100_000 + b'"}'
    response = client.post("/api/orders", content=huge, headers=json_headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


_CARD = {"type": "card", "token": "pm_card_visa"}


@pytest.mark.parametrize("path", ["/api/payments/charge", "/api/payments/authorize"])
@pytest.mark.parametrize(
    ("content", "content_type", "code", "param"),
    [
        (b"", "application/json", "invalid_request", None),  # no body at all
        (b"{not json", "application/json", "invalid_json", None),
        (b'{"amountCents": 100}', "text/plain", "invalid_request", None),  # not declared JSON
        (b'{"amountCents": 100}', None, "invalid_request", None),
        (b'{"amountCents": "100", "currency": "USD", "paymentMethod": {}}', None, None, None),
        (b"[1, 2]", "application/json", "invalid_request", None),
        (b'{"amountCents": "100", "currency": "USD"}', "application/json", None, "amountCents"),
        (
            b'{"amountCents": 100, "currency": "USD", "paymentMethod": {"type": "card"}}',
            "application/json",
            None,
            "paymentMethod.token",
        ),
        (
            b'{"amountCents": 100, "currency": "USD", "amount_cents": 1,'
            b' "paymentMethod": {"type": "card", "token": "x"}}',
            "application/json; charset=utf-8",
            None,
            "amount_cents",
        ),
        (
            b'{"amountCents": true, "currency": "USD"}',
            "application/vnd.api+json",
            None,
            "amountCents",
        ),
    ],
)
def test_a_charge_body_the_route_reads_itself_is_refused_as_any_body(
    shop: Merchant,
    client: TestClient,
    path: str,
    content: bytes,
    content_type: str | None,
    code: str | None,
    param: str | None,
):
    """Charge and authorize parse their own bodies (backend.api.json_body): each refusal is the
    API's usual 400, names the field, and leaves nothing behind, as with FastAPI's parsing."""
    headers = {**shop.headers("body-1")}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(path, content=content, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == (code or "invalid_request")
    assert error["param"] == param
    assert error["message"]
    with session_scope(readonly=True) as db:
        assert not db.exec(select(Payment).where(Payment.merchant_id == shop.merchant_id)).all()
    # A malformed request is no answer to keep: the key still takes the corrected request.
    ok = shop.post(
        path, {"amountCents": 100, "currency": "USD", "paymentMethod": _CARD}, key="body-1"
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["payment"]["amountCaptured"] == (100 if path.endswith("charge") else 0)


def test_a_charge_body_is_documented_in_the_openapi_schema(client: TestClient):
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/payments/charge", "/api/payments/authorize"):
        body = schema["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/PaymentCreate"
        }
    created = schema["components"]["schemas"]["PaymentCreate"]
    assert created["required"] == ["paymentMethod"]
    assert created["additionalProperties"] is False
    assert "PaymentMethodIn" in schema["components"]["schemas"]


@pytest.mark.parametrize(
    "authorization",
    [None, "sk_test_abc", "Bearer ", "Bearer sk_test_unknown0000000000000000000000", "Basic x"],
)
def test_requests_without_a_valid_key_are_401(client: TestClient, authorization: str | None):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(
        "/api/orders", json={"amountCents": 1, "currency": "USD"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["success"] is False


# --- the payment lifecycle ----------------------------------------------------------------------


def test_charge_records_fees_from_the_fee_table(shop: Merchant):
    response = shop.charge(amount=10_000)
    assert response.status_code == 201, response.text
    payment = response.json()["payment"]
    assert payment["status"] == "succeeded"
    assert (
        payment["totalAmount"],
        payment["platformFee"],
        payment["gatewayFee"],
        payment["netAmount"],
    ) == (10_000, 300, 320, 9380)
    assert payment["paymentMethod"] == {
        "type": "card",
        "brand": "visa",
        "last4": "4242",
        "expMonth": payment["paymentMethod"]["expMonth"],
        "expYear": payment["paymentMethod"]["expYear"],
        "country": payment["paymentMethod"]["country"],
        "bankAccount": None,  # a card
        "wallet": None,  # a card typed in, not a wallet's
    }
    assert payment["gatewayType"] == "sandbox"
    invariant(payment)
    assert shop.get(f"/api/payments/{payment['id']}").json()["payment"] == payment


def test_authorize_then_partial_capture_once(shop: Merchant):
    authorized = shop.charge(capture=False, amount=5_000).json()["payment"]
    assert authorized["status"] == "authorized"
    assert authorized["amountCaptured"] == 0
    captured = shop.post(f"/api/payments/{authorized['id']}/capture", {"amountCents": 4_000})
    assert captured.status_code == 200, captured.text
    payment = captured.json()["payment"]
    assert (payment["status"], payment["amountCaptured"]) == ("succeeded", 4_000)
    assert payment["platformFee"] == 120  # 3% of what was captured
    invariant(payment)
    again = shop.post(f"/api/payments/{authorized['id']}/capture", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payment_invalid_state"


def test_capture_above_the_authorization_changes_nothing(shop: Merchant):
    authorized = shop.charge(capture=False, amount=5_000).json()["payment"]
    response = shop.post(f"/api/payments/{authorized['id']}/capture", {"amountCents": 5_001})
    assert response.status_code == 422
    assert shop.get(f"/api/payments/{authorized['id']}").json()["payment"]["status"] == (
        "authorized"
    )


def test_void_only_an_uncaptured_payment(shop: Merchant):
    authorized = shop.charge(capture=False).json()["payment"]
    voided = shop.post(f"/api/payments/{authorized['id']}/void")
    assert voided.status_code == 200
    assert voided.json()["payment"]["status"] == "voided"
    assert voided.json()["payment"]["netAmount"] == 0
    captured = shop.charge().json()["payment"]
    response = shop.post(f"/api/payments/{captured['id']}/void")
    assert response.status_code == 409


def test_refunds_partial_then_full_never_above_captured(shop: Merchant):
    payment = shop.charge(amount=10_000).json()["payment"]
    first = shop.post(
        f"/api/payments/{payment['id']}/refund",
        {"amountCents": 3_000, "reason": "requested_by_customer"},
    )
    assert first.status_code == 200, first.text
    after_first = first.json()["payment"]
    assert after_first["status"] == "partially_refunded"
    assert first.json()["refund"]["platformFeeRefunded"] == 90
    invariant(after_first)

    too_much = shop.post(f"/api/payments/{payment['id']}/refund", {"amountCents": 7_001})
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "amount_too_large"

    rest = shop.post(f"/api/payments/{payment['id']}/refund", {})
    assert rest.status_code == 200
    final = rest.json()["payment"]
    assert (final["status"], final["amountRefunded"]) == ("refunded", 10_000)
    # The whole platform fee came back; the gateway kept its fee, so net is minus that fee.
    assert final["platformFee"] == 0
    assert final["netAmount"] == -320
    invariant(final)
    assert shop.post(f"/api/payments/{payment['id']}/refund", {}).status_code == 409


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
    ],
)
def test_declines_are_402_and_recorded(shop: Merchant, card: str, decline_code: str):
    response = shop.charge(card)
    assert response.status_code == 402
    body = response.json()
    assert body["error"]["declineCode"] == decline_code
    assert body["payment"]["status"] == "failed"
    assert body["payment"]["netAmount"] == 0
    order_id = body["payment"]["orderId"]
    # The order is still open: the customer can pay it with another card.
    retry = shop.post(
        "/api/payments/charge", {"orderId": order_id, "paymentMethod": {"token": "pm_card_visa"}}
    )
    assert retry.status_code == 201, retry.text
    listed = shop.get(f"/api/orders/{order_id}/payments").json()["payments"]
    assert [p["status"] for p in listed] == ["failed", "succeeded"]
    paid_again = shop.post(
        "/api/payments/charge", {"orderId": order_id, "paymentMethod": {"token": "pm_card_visa"}}
    )
    assert paid_again.status_code == 409


def test_three_d_secure_card_requires_action(shop: Merchant):
    payment = shop.charge("4000002500003155").json()["payment"]
    assert payment["status"] == "requires_action"


def test_dispute_card_succeeds_then_is_disputed(shop: Merchant):
    response = shop.charge("4000000000000259")
    assert response.json()["payment"]["status"] == "succeeded"
    payment_id = response.json()["payment"]["id"]
    assert shop.get(f"/api/payments/{payment_id}").json()["payment"]["status"] == "disputed"


def test_not_a_test_card_is_refused_and_nothing_is_written(shop: Merchant):
    order_id = shop.order()
    response = shop.post(
        "/api/payments/charge",
        {"orderId": order_id, "paymentMethod": {"token": "4111111111111111"}},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_a_test_card"
    with session_scope() as db:
        assert db.exec(select(Payment).where(Payment.order_id == order_id)).all() == []


def test_charge_without_an_order_creates_one(shop: Merchant):
    response = shop.post(
        "/api/payments/charge",
        {"amountCents": 1_999, "currency": "JPY", "paymentMethod": {"token": "pm_card_visa"}},
    )
    assert response.status_code == 201, response.text
    payment = response.json()["payment"]
    assert (payment["currency"], payment["totalAmount"]) == ("JPY", 1_999)
    assert payment["orderId"].startswith("ord_")


def test_unknown_gateway_and_unconfigured_stripe_are_clear(shop: Merchant):
    order_id = shop.order()
    response = shop.post(
        "/api/payments/charge",
        {"orderId": order_id, "gatewayType": "stripe", "paymentMethod": {"token": "pm_card_visa"}},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "gateway_not_configured"


# --- isolation ----------------------------------------------------------------------------------


def test_another_merchants_ids_are_404(client: TestClient, shop: Merchant):
    payment = shop.charge().json()["payment"]
    rival = new_merchant(client, "Rival")
    for path in (f"/api/payments/{payment['id']}", f"/api/orders/{payment['orderId']}/payments"):
        assert rival.get(path).status_code == 404
    for action in ("capture", "refund", "void"):
        response = rival.post(f"/api/payments/{payment['id']}/{action}", {})
        assert response.status_code == 404
    assert shop.get(f"/api/payments/{payment['id']}").json()["payment"]["status"] == "succeeded"


def test_live_keys_never_see_test_data(client: TestClient, shop: Merchant):
    from backend.services.identity import api_keys

    payment = shop.charge().json()["payment"]
    with session_scope() as db:
        live = api_keys.issue_key(db, shop.merchant_id, livemode=True)
    live_shop = Merchant(client, shop.merchant_id, live.secret)
    assert live_shop.get(f"/api/payments/{payment['id']}").status_code == 404
    # And live mode never takes money through the sandbox.
    response = live_shop.post(
        "/api/payments/charge",
        {"amountCents": 100, "currency": "USD", "paymentMethod": {"token": "pm_card_visa"}},
    )
    assert response.status_code == 422


# --- idempotency, audit and outbox --------------------------------------------------------------


def test_idempotency_key_replays_and_refuses_reuse(shop: Merchant):
    body = {"amountCents": 700, "currency": "USD", "paymentMethod": {"token": "pm_card_visa"}}
    first = shop.post("/api/payments/charge", body, key="order-77")
    second = shop.post("/api/payments/charge", body, key="order-77")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    other = shop.post("/api/payments/charge", {**body, "amountCents": 701}, key="order-77")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    with session_scope() as db:
        assert (
            len(db.exec(select(Payment).where(Payment.merchant_id == shop.merchant_id)).all()) == 1
        )


def test_declines_replay_too(shop: Merchant):
    body = {"amountCents": 700, "currency": "USD", "paymentMethod": {"token": "4000000000000002"}}
    first = shop.post("/api/payments/charge", body, key="decline-1")
    second = shop.post("/api/payments/charge", body, key="decline-1")
    assert first.status_code == second.status_code == 402
    assert first.json() == second.json()


def test_every_money_change_writes_audit_and_events(shop: Merchant):
    payment = shop.charge(capture=False).json()["payment"]
    shop.post(f"/api/payments/{payment['id']}/capture", {})
    shop.post(f"/api/payments/{payment['id']}/refund", {"amountCents": 100})
    with session_scope() as db:
        types = [
            e.type
            for e in db.exec(
                select(DomainEvent)
                .where(DomainEvent.object_id == payment["id"])
                .order_by(DomainEvent.created_at, DomainEvent.id)
            )
        ]
        actions = {
            a.action for a in db.exec(select(AuditLog).where(AuditLog.object_id == payment["id"]))
        }
        attempts = db.exec(
            select(PaymentAttempt).where(PaymentAttempt.payment_id == payment["id"])
        ).all()
    assert types == [
        "payment.authorized",
        "payment.succeeded",
        "payment.captured",
        "payment.refunded",
    ]
    assert {"payment.authorized", "payment.captured", "payment.refunded"} <= actions
    assert [a.operation for a in attempts] == ["authorize", "capture", "refund"]


def test_rate_limit_answers_429_with_retry_after(shop: Merchant, monkeypatch):
    from backend.api import deps
    from backend.core.config import get_settings

    monkeypatch.setenv("API_RATE_LIMIT", "3/minute")
    get_settings.cache_clear()
    deps._limiter.cache_clear()
    statuses = [shop.get("/api/payments/pay_missing").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    response = shop.get("/api/payments/pay_missing")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"
