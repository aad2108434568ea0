"""The PayPal gateway's real REST client against a local fake of PayPal on 127.0.0.1: every
Gateway method, PayPal-Request-Id idempotency, the OAuth token, error mapping and failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.gateways.base import (
    DisputeEvidence,
    GatewayUnavailable,
    Outcome,
    PaymentRequest,
    RefundState,
    UnsupportedOperation,
)
from backend.gateways.paypal import PayPalClient, PayPalGateway
from backend.gateways.paypal import webhooks as paypal_webhooks
from backend.gateways.paypal.gateway import from_value, to_value
from tests.fakes.paypal_api import FakePayPal


@pytest.fixture
def fake() -> Iterator[FakePayPal]:
    with FakePayPal(client_id="cid-1", secret="secret-1") as server:
        yield server


@pytest.fixture
def gateway(fake: FakePayPal) -> Iterator[PayPalGateway]:
    client = PayPalClient("cid-1", "secret-1", api_base=fake.url, timeout=1.0)
    yield PayPalGateway(client, return_url="http://127.0.0.1:3000/return")
    client.close()


def _request(key: str = "key-1", *, capture: bool = True, amount: int = 1234) -> PaymentRequest:
    return PaymentRequest(
        amount=amount,
        currency="USD",
        payment_method_type="paypal",
        payment_method_token="paypal",
        capture=capture,
        idempotency_key=key,
        metadata={"payment_id": "pay_test1"},
        return_url="http://127.0.0.1:3000/pay/cs_1?paypal=return",
        cancel_url="http://127.0.0.1:3000/pay/cs_1?paypal=cancel",
    )


def test_amounts_convert_exactly() -> None:
    assert to_value(1234, "USD") == "12.34"
    assert to_value(5, "USD") == "0.05"
    assert to_value(500, "JPY") == "500"
    assert to_value(12300, "HUF") == "123"
    assert from_value("12.34", "USD") == 1234
    assert from_value("12.3", "USD") == 1230
    with pytest.raises(ValidationFailed):
        to_value(12345, "HUF")
    with pytest.raises(ValidationFailed):
        to_value(0, "USD")
    with pytest.raises(ValueError):
        from_value("1.234", "USD")


def test_charge_waits_for_approval_then_captures(fake: FakePayPal, gateway: PayPalGateway) -> None:
    result = gateway.create_payment(_request())
    assert result.outcome == Outcome.REQUIRES_ACTION
    order_id = result.gateway_payment_id
    assert order_id in fake.orders
    sent = fake.calls("POST", "/v2/checkout/orders")[0]
    assert sent.headers["paypal-request-id"] == "key-1"
    assert sent.body["intent"] == "CAPTURE"
    assert sent.body["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "12.34"}
    assert sent.body["purchase_units"][0]["custom_id"] == "pay_test1"
    context = sent.body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"].endswith("paypal=return")
    assert context["cancel_url"].endswith("paypal=cancel")
    assert gateway.action_url(order_id) == f"{fake.url}/checkoutnow?token={order_id}"

    # The buyer has not approved yet: still waiting.
    assert gateway.complete_action(order_id, None, capture=True).outcome == Outcome.REQUIRES_ACTION
    fake.approve(order_id)
    done = gateway.complete_action(order_id, None, capture=True)
    assert done.outcome == Outcome.SUCCEEDED
    assert fake.orders[order_id].status == "COMPLETED"
    assert gateway.action_url(order_id) is None
    assert gateway.retrieve(order_id).outcome == Outcome.SUCCEEDED
    # Finishing again (another tab, the webhook) replays: one capture only.
    assert gateway.complete_action(order_id, None, capture=True).outcome == Outcome.SUCCEEDED
    assert len(fake.orders[order_id].captures) == 1


def test_refund_partial_then_rest_then_too_much(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request()).gateway_payment_id
    fake.approve(order_id)
    gateway.complete_action(order_id, True, capture=True)
    first = gateway.refund(order_id, 234, "USD", idempotency_key="rf-1")
    assert first.state == RefundState.SUCCEEDED
    again = gateway.refund(order_id, 234, "USD", idempotency_key="rf-1")
    assert again.gateway_refund_id == first.gateway_refund_id  # replayed, not refunded twice
    assert len(fake.refunds) == 1
    assert gateway.refund(order_id, 1000, "USD", idempotency_key="rf-2").succeeded
    with pytest.raises(Conflict) as refused:
        gateway.refund(order_id, 1, "USD", idempotency_key="rf-3")
    assert refused.value.code == "charge_already_refunded"


def test_refund_above_the_capture_is_refused(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request()).gateway_payment_id
    fake.approve(order_id)
    gateway.complete_action(order_id, True, capture=True)
    with pytest.raises(ValidationFailed) as refused:
        gateway.refund(order_id, 5000, "USD", idempotency_key="rf-1")
    assert refused.value.code == "refund_amount_exceeded"


def test_authorize_then_capture_and_void(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request("a-1", capture=False)).gateway_payment_id
    assert fake.calls("POST", "/v2/checkout/orders")[0].body["intent"] == "AUTHORIZE"
    fake.approve(order_id)
    held = gateway.complete_action(order_id, True, capture=False)
    assert held.outcome == Outcome.AUTHORIZED
    assert gateway.retrieve(order_id).outcome == Outcome.AUTHORIZED
    captured = gateway.capture(order_id, 1000, "USD", idempotency_key="cap-1")
    assert captured.outcome == Outcome.SUCCEEDED
    sent = fake.calls("POST", r"/v2/payments/authorizations/\w+/capture")[0]
    assert sent.body["amount"] == {"currency_code": "USD", "value": "10.00"}
    with pytest.raises(Conflict) as twice:
        gateway.capture(order_id, 1000, "USD", idempotency_key="cap-2")
    assert twice.value.code == "invalid_state"

    other = gateway.create_payment(_request("a-2", capture=False)).gateway_payment_id
    fake.approve(other)
    gateway.complete_action(other, True, capture=False)
    gateway.void(other, idempotency_key="void-1")
    assert fake.orders[other].authorizations[0]["status"] == "VOIDED"
    gateway.void(other, idempotency_key="void-2")  # already voided: quietly done
    assert gateway.retrieve(other).decline_code == "payment_canceled"


def test_charge_of_an_authorize_order_authorizes_and_captures(
    fake: FakePayPal, gateway: PayPalGateway
) -> None:
    order_id = gateway.create_payment(_request("a-3", capture=False)).gateway_payment_id
    fake.approve(order_id)
    assert gateway.complete_action(order_id, None, capture=True).outcome == Outcome.SUCCEEDED
    assert fake.orders[order_id].authorizations[0]["status"] == "CAPTURED"


def test_void_before_approval_holds_nothing(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request()).gateway_payment_id
    gateway.void(order_id, idempotency_key="v-1")
    assert not fake.calls("POST", r"/v2/payments/authorizations/\w+/void")


def test_buyer_cancels(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request()).gateway_payment_id
    fake.cancel(order_id)
    result = gateway.complete_action(order_id, False, capture=True)
    assert result.outcome == Outcome.DECLINED
    assert result.decline_code == "payment_canceled"


def test_declined_instrument_is_a_decline(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request()).gateway_payment_id
    fake.approve(order_id, funding="declined")
    result = gateway.complete_action(order_id, None, capture=True)
    assert result.outcome == Outcome.DECLINED
    assert result.decline_code == "card_declined"
    assert result.gateway_payment_id == order_id


def test_pending_capture_is_outcome_unknown(fake: FakePayPal, gateway: PayPalGateway) -> None:
    order_id = gateway.create_payment(_request()).gateway_payment_id
    fake.approve(order_id, funding="pending")
    with pytest.raises(GatewayUnavailable) as pending:
        gateway.complete_action(order_id, None, capture=True)
    assert pending.value.outcome_unknown


def test_same_request_id_same_order_other_body_refused(
    fake: FakePayPal, gateway: PayPalGateway
) -> None:
    first = gateway.create_payment(_request("same"))
    second = gateway.create_payment(_request("same"))
    assert first.gateway_payment_id == second.gateway_payment_id
    assert len(fake.orders) == 1
    with pytest.raises(Conflict) as reused:
        gateway.create_payment(_request("same", amount=999))
    assert reused.value.code == "idempotency_key_reused"


def test_token_is_cached_and_renewed_after_401(fake: FakePayPal, gateway: PayPalGateway) -> None:
    gateway.create_payment(_request("t-1"))
    gateway.create_payment(_request("t-2"))
    assert len(fake.calls("POST", "/v1/oauth2/token")) == 1
    fake.expire_tokens()
    gateway.create_payment(_request("t-3"))
    assert len(fake.calls("POST", "/v1/oauth2/token")) == 2
    assert len(fake.orders) == 3


def test_expiring_token_is_fetched_again(fake: FakePayPal) -> None:
    fake.token_lifetime = 30  # inside the client's margin: every call fetches a new one
    client = PayPalClient("cid-1", "secret-1", api_base=fake.url)
    gateway = PayPalGateway(client, return_url="http://127.0.0.1/r")
    gateway.create_payment(_request("e-1"))
    gateway.create_payment(_request("e-2"))
    assert len(fake.calls("POST", "/v1/oauth2/token")) == 2
    client.close()


def test_bad_credentials(fake: FakePayPal) -> None:
    client = PayPalClient("cid-1", "wrong", api_base=fake.url)
    with pytest.raises(GatewayUnavailable) as refused:
        PayPalGateway(client, return_url="http://127.0.0.1/r").create_payment(_request())
    assert refused.value.code == "gateway_auth_failed"
    assert not refused.value.outcome_unknown
    client.close()


def test_unsupported_currency_is_rejected_before_acting(gateway: PayPalGateway) -> None:
    request = PaymentRequest(
        amount=1000,
        currency="CHF",
        payment_method_type="paypal",
        payment_method_token="paypal",
        capture=True,
        idempotency_key="chf",
    )
    with pytest.raises(GatewayUnavailable) as rejected:
        gateway.create_payment(request)
    assert rejected.value.code == "gateway_request_rejected"
    assert not rejected.value.outcome_unknown


def test_card_payments_are_not_paypals(gateway: PayPalGateway) -> None:
    request = PaymentRequest(
        amount=1000,
        currency="USD",
        payment_method_type="card",
        payment_method_token="pm_card_visa",
        capture=True,
        idempotency_key="card",
    )
    with pytest.raises(ValidationFailed) as refused:
        gateway.create_payment(request)
    assert refused.value.code == "payment_method_unsupported"


def test_unknown_order(gateway: PayPalGateway) -> None:
    with pytest.raises(NotFound):
        gateway.retrieve("NOSUCHORDER1234")
    with pytest.raises(NotFound):
        gateway.retrieve("../../v1/oauth2/token")


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (500, "gateway_error"),
        (503, "gateway_error"),
        (429, "gateway_rate_limited"),
        ("timeout", "gateway_timeout"),
        ("connection_reset", "gateway_connection_lost"),
    ],
)
def test_failures_map_to_unavailable(
    fake: FakePayPal, gateway: PayPalGateway, fault: int | str, code: str
) -> None:
    gateway.client.access_token()  # the token call itself is not faulted
    fake.fail_next(1, fault)
    with pytest.raises(GatewayUnavailable) as failed:
        gateway.create_payment(_request(f"f-{fault}"))
    assert failed.value.code == code


def test_lost_answer_is_replayed_by_the_same_request_id(
    fake: FakePayPal, gateway: PayPalGateway
) -> None:
    """PayPal created the order but the answer was lost: the retry with the same key gets it."""
    gateway.client.access_token()
    fake.fail_next(1, 500, after_processing=True)
    with pytest.raises(GatewayUnavailable) as lost:
        gateway.create_payment(_request("lost"))
    assert lost.value.outcome_unknown
    again = gateway.create_payment(_request("lost"))
    assert again.outcome == Outcome.REQUIRES_ACTION
    assert len(fake.orders) == 1


def test_unreachable_is_safe_to_fail_over() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = PayPalClient("cid", "sec", api_base=f"http://127.0.0.1:{port}", timeout=1.0)
    gateway = PayPalGateway(client, return_url="http://127.0.0.1/r")
    with pytest.raises(GatewayUnavailable) as down:
        gateway.create_payment(_request())
    assert down.value.code == "gateway_unreachable"
    assert not down.value.outcome_unknown
    client.close()


def test_unsupported_operations_say_so(gateway: PayPalGateway) -> None:
    calls = [
        lambda: gateway.create_customer(email=None, name=None, reference="c", idempotency_key="k"),
        lambda: gateway.save_card("cus", "tok", idempotency_key="k"),
        lambda: gateway.detach_card("pm", idempotency_key="k"),
        lambda: gateway.submit_dispute("dp", DisputeEvidence(), []),
        lambda: gateway.accept_dispute("dp"),
        lambda: gateway.list_payouts(),
        lambda: gateway.list_balance_transactions(),
    ]
    for call in calls:
        with pytest.raises(UnsupportedOperation) as refused:
            call()
        assert refused.value.code == "processor_unsupported"
        assert refused.value.status == 422
    assert gateway.card_details("anything") is None
    assert gateway.client_secret("ORDER") is None


def test_webhook_verification(fake: FakePayPal, gateway: PayPalGateway) -> None:
    import json

    order_id = gateway.create_payment(_request()).gateway_payment_id
    fake.approve(order_id)
    event = fake.events[-1]
    body = json.dumps(event).encode()
    headers = {k.lower(): v for k, v in fake.signed(event).items()}
    verified = paypal_webhooks.verify(gateway.client, fake.webhook_id, headers, body)
    assert verified.type == "CHECKOUT.ORDER.APPROVED"
    assert verified.resource["id"] == order_id
    with pytest.raises(paypal_webhooks.WebhookRejected) as wrong_hook:
        paypal_webhooks.verify(gateway.client, "WH-OTHER", headers, body)
    assert wrong_hook.value.code == "signature_invalid"
    forged = {**headers, "paypal-transmission-sig": "Zm9yZ2Vk"}
    with pytest.raises(paypal_webhooks.WebhookRejected):
        paypal_webhooks.verify(gateway.client, fake.webhook_id, forged, body)
    with pytest.raises(paypal_webhooks.WebhookRejected) as missing:
        paypal_webhooks.verify(gateway.client, fake.webhook_id, {}, body)
    assert missing.value.code == "signature_missing"
    with pytest.raises(paypal_webhooks.WebhookRejected) as garbage:
        paypal_webhooks.verify(gateway.client, fake.webhook_id, headers, b"\xff{")
    assert garbage.value.code == "invalid_json"
