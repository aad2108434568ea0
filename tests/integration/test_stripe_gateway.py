"""StripeGateway through the real stripe-python SDK, over HTTP, against a local FakeStripe."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
import stripe

from backend.core.config import Settings, get_settings
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.gateways.base import (
    OUTCOME_UNKNOWN_CODES,
    DisputeEvidence,
    DisputeStage,
    DisputeState,
    EvidenceFile,
    EvidenceKind,
    GatewayUnavailable,
    Outcome,
    PaymentRequest,
)
from backend.gateways.stripe_gateway import StripeGateway
from tests.fakes.stripe_api import FakeStripe

KEY = "sk_test_fake_0123456789"
PI_PATH = "/v1/payment_intents"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection to a host other than 127.0.0.1 fails the test: nothing reaches Stripe.

    The SDK turns any exception of its HTTP client into an APIConnectionError, so attempts are
    also recorded and checked after the test.
    """
    connect = socket.socket.connect
    attempts: list[object] = []

    def guarded(sock: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            attempts.append(address)
            raise AssertionError(f"test tried to connect to {address!r}")
        return connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield
    assert attempts == [], f"connections outside 127.0.0.1: {attempts}"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def gateway(fake: FakeStripe) -> Iterator[StripeGateway]:
    gateway = StripeGateway(KEY, api_base=fake.url, timeout=0.5)
    yield gateway
    gateway.close()


def payment(token: str = "pm_card_visa", **changes: object) -> PaymentRequest:
    request = PaymentRequest(
        amount=1999,
        currency="USD",
        payment_method_type="card",
        payment_method_token=token,
        capture=True,
        idempotency_key=f"pay-{token}",
        description="Order 42",
        customer_email="ada@example.com",
        metadata={"order_id": "42"},
    )
    return replace(request, **changes)  # type: ignore[arg-type]


# -- charges -------------------------------------------------------------------------------


def test_charge_succeeds_with_card_details(gateway: StripeGateway, fake: FakeStripe) -> None:
    result = gateway.create_payment(payment())

    assert result.outcome is Outcome.SUCCEEDED
    assert result.gateway_payment_id in fake.payment_intents
    assert fake.payment_intents[result.gateway_payment_id]["status"] == "succeeded"
    card = result.card
    assert card is not None
    assert (card.brand, card.last4, card.country, card.exp_month) == ("visa", "4242", "US", 12)
    assert card.exp_year and card.fingerprint
    assert result.decline_code is None and result.message is None

    [call] = fake.calls("POST", PI_PATH)
    assert call.params == {
        "amount": "1999",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "payment_method_types": ["card"],
        "confirm": "true",
        "capture_method": "automatic",
        "expand": ["latest_charge", "payment_method"],
        "description": "Order 42",
        "metadata": {"order_id": "42"},
    }
    assert call.authorization == f"Bearer {KEY}"
    assert call.idempotency_key == "pay-pm_card_visa"


def test_the_same_card_has_the_same_fingerprint(gateway: StripeGateway) -> None:
    first = gateway.create_payment(payment(idempotency_key="a"))
    second = gateway.create_payment(payment(idempotency_key="b"))
    assert first.gateway_payment_id != second.gateway_payment_id
    assert first.card and second.card and first.card.fingerprint == second.card.fingerprint


def test_dispute_card_succeeds(gateway: StripeGateway, fake: FakeStripe) -> None:
    result = gateway.create_payment(payment("pm_card_createDispute"))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.card and result.card.last4 == "0259"
    assert [d["payment_intent"] for d in fake.disputes.values()] == [result.gateway_payment_id]


def test_manual_capture_then_partial_capture(gateway: StripeGateway, fake: FakeStripe) -> None:
    auth = gateway.create_payment(payment(capture=False, amount=5000))
    assert auth.outcome is Outcome.AUTHORIZED
    assert auth.card and auth.card.last4 == "4242"
    pi_id = auth.gateway_payment_id
    assert pi_id is not None
    assert fake.payment_intents[pi_id]["status"] == "requires_capture"
    assert fake.payment_intents[pi_id]["amount_capturable"] == 5000
    assert fake.calls("POST", PI_PATH)[0].params["capture_method"] == "manual"

    captured = gateway.capture(pi_id, 3000, "usd", idempotency_key="cap-1")

    assert captured.outcome is Outcome.SUCCEEDED
    assert captured.gateway_payment_id == pi_id
    assert captured.card and captured.card.last4 == "4242"
    assert fake.payment_intents[pi_id]["amount_received"] == 3000
    [call] = fake.calls("POST", f"{PI_PATH}/{pi_id}/capture")
    assert call.params["amount_to_capture"] == "3000"
    assert call.idempotency_key == "cap-1"


def test_capturing_more_than_authorized_is_refused(gateway: StripeGateway) -> None:
    auth = gateway.create_payment(payment(capture=False, amount=1000))
    assert auth.gateway_payment_id
    with pytest.raises(ValidationFailed) as caught:
        gateway.capture(auth.gateway_payment_id, 1001, "usd", idempotency_key="cap-big")
    assert caught.value.code == "amount_too_large"
    assert caught.value.param == "amount"


def test_capturing_twice_is_a_conflict(gateway: StripeGateway) -> None:
    pi_id = gateway.create_payment(payment()).gateway_payment_id
    assert pi_id
    with pytest.raises(Conflict) as caught:
        gateway.capture(pi_id, 1999, "usd", idempotency_key="cap-again")
    assert caught.value.code == "invalid_state"


def test_capturing_an_unknown_payment_is_not_found(gateway: StripeGateway) -> None:
    with pytest.raises(NotFound):
        gateway.capture("pi_doesnotexist", 100, "usd", idempotency_key="cap-missing")


def test_void_releases_the_authorization(gateway: StripeGateway, fake: FakeStripe) -> None:
    pi_id = gateway.create_payment(payment(capture=False)).gateway_payment_id
    assert pi_id

    gateway.void(pi_id, idempotency_key="void-1")

    assert fake.payment_intents[pi_id]["status"] == "canceled"
    [call] = fake.calls("POST", f"{PI_PATH}/{pi_id}/cancel")
    assert call.idempotency_key == "void-1"
    gateway.void(pi_id, idempotency_key="void-2")  # already canceled: done, not an error
    assert len(fake.calls("POST", f"{PI_PATH}/{pi_id}/cancel")) == 2


def test_voiding_a_captured_payment_is_a_conflict(gateway: StripeGateway) -> None:
    pi_id = gateway.create_payment(payment()).gateway_payment_id
    assert pi_id
    with pytest.raises(Conflict) as caught:
        gateway.void(pi_id, idempotency_key="void-late")
    assert caught.value.code == "invalid_state"
    assert "succeeded" in caught.value.message


# -- refunds -------------------------------------------------------------------------------


def test_refund_partial_then_the_rest(gateway: StripeGateway, fake: FakeStripe) -> None:
    pi_id = gateway.create_payment(payment(amount=5000)).gateway_payment_id
    assert pi_id

    first = gateway.refund(pi_id, 2000, "usd", idempotency_key="re-1")
    rest = gateway.refund(pi_id, 3000, "usd", idempotency_key="re-2")

    assert first.succeeded and rest.succeeded
    assert first.failure_reason is None
    assert first.gateway_refund_id != rest.gateway_refund_id
    assert {r["amount"] for r in fake.refunds.values()} == {2000, 3000}
    assert all(r["payment_intent"] == pi_id for r in fake.refunds.values())
    charge = fake.charges[fake.payment_intents[pi_id]["latest_charge"]]
    assert charge["amount_refunded"] == 5000 and charge["refunded"] is True
    assert [c.idempotency_key for c in fake.calls("POST", "/v1/refunds")] == ["re-1", "re-2"]

    with pytest.raises(Conflict) as caught:
        gateway.refund(pi_id, 1, "usd", idempotency_key="re-3")
    assert caught.value.code == "charge_already_refunded"


def test_full_refund_in_one_go(gateway: StripeGateway, fake: FakeStripe) -> None:
    pi_id = gateway.create_payment(payment()).gateway_payment_id
    assert pi_id
    result = gateway.refund(pi_id, 1999, "usd", idempotency_key="re-full")
    assert result.succeeded
    assert fake.refunds[result.gateway_refund_id]["amount"] == 1999


def test_refunding_more_than_remains_is_refused(gateway: StripeGateway, fake: FakeStripe) -> None:
    pi_id = gateway.create_payment(payment(amount=5000)).gateway_payment_id
    assert pi_id
    gateway.refund(pi_id, 4000, "usd", idempotency_key="re-a")
    with pytest.raises(ValidationFailed) as caught:
        gateway.refund(pi_id, 2000, "usd", idempotency_key="re-b")
    assert caught.value.code == "amount_too_large"
    assert len(fake.refunds) == 1


def test_pending_refund_is_not_reported_as_succeeded(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    pi_id = gateway.create_payment(payment()).gateway_payment_id
    assert pi_id
    fake.next_refund_status = "pending"
    result = gateway.refund(pi_id, 500, "usd", idempotency_key="re-pending")
    assert result.succeeded is False
    assert result.failure_reason is None  # not failed: pending
    assert result.gateway_refund_id in fake.refunds


def test_refund_of_an_unknown_payment_is_not_found(gateway: StripeGateway) -> None:
    with pytest.raises(NotFound):
        gateway.refund("pi_doesnotexist", 100, "usd", idempotency_key="re-missing")


# -- declines and authentication -----------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "decline_code", "last4", "words"),
    [
        ("pm_card_chargeDeclined", "card_declined", "0002", "declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "9995", "insufficient"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "0069", "expired"),
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "0127", "security code"),
    ],
)
def test_declines_are_outcomes_with_a_customer_message(
    gateway: StripeGateway, fake: FakeStripe, token: str, decline_code: str, last4: str, words: str
) -> None:
    result = gateway.create_payment(payment(token))

    assert result.outcome is Outcome.DECLINED
    assert result.decline_code == decline_code
    assert result.message and words in result.message.lower()
    assert result.card and result.card.last4 == last4
    assert result.gateway_payment_id in fake.payment_intents
    intent = fake.payment_intents[result.gateway_payment_id]
    assert intent["status"] == "requires_payment_method"
    assert len(fake.calls("POST", PI_PATH)) == 1


@pytest.mark.parametrize(
    "token", ["pm_card_authenticationRequired", "pm_card_threeDSecure2Required"]
)
def test_three_d_secure_requires_action_then_succeeds(
    gateway: StripeGateway, fake: FakeStripe, token: str
) -> None:
    result = gateway.create_payment(payment(token))

    assert result.outcome is Outcome.REQUIRES_ACTION
    assert result.message and "bank" in result.message
    assert result.gateway_payment_id
    assert fake.payment_intents[result.gateway_payment_id]["next_action"]["type"] == (
        "use_stripe_sdk"
    )

    fake.complete_authentication(result.gateway_payment_id)
    after = gateway.retrieve(result.gateway_payment_id)

    assert after.outcome is Outcome.SUCCEEDED
    assert after.card and after.card.brand == "visa"
    [get] = fake.calls("GET", f"{PI_PATH}/{result.gateway_payment_id}")
    assert get.params == {"expand": ["latest_charge", "payment_method"]}


def test_failed_authentication_is_a_decline(gateway: StripeGateway, fake: FakeStripe) -> None:
    pi_id = gateway.create_payment(payment("pm_card_authenticationRequired")).gateway_payment_id
    assert pi_id
    fake.complete_authentication(pi_id, succeed=False)

    result = gateway.retrieve(pi_id)

    assert result.outcome is Outcome.DECLINED
    assert result.decline_code == "authentication_failed"
    assert result.message and "bank" in result.message


def test_retrieve_of_a_voided_payment(gateway: StripeGateway) -> None:
    pi_id = gateway.create_payment(payment(capture=False)).gateway_payment_id
    assert pi_id
    gateway.void(pi_id, idempotency_key="void-r")
    result = gateway.retrieve(pi_id)
    assert (result.outcome, result.decline_code) == (Outcome.DECLINED, "payment_canceled")


# -- caller errors -------------------------------------------------------------------------


def test_amount_below_stripe_minimum_is_a_validation_error(gateway: StripeGateway) -> None:
    with pytest.raises(ValidationFailed) as caught:
        gateway.create_payment(payment(amount=10))
    assert (caught.value.code, caught.value.param) == ("amount_too_small", "amount")


def test_unknown_payment_method_is_a_validation_error(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        gateway.create_payment(payment("pm_doesnotexist"))
    assert caught.value.code == "invalid_payment_method"
    assert len(fake.calls("POST", PI_PATH)) == 1


@pytest.mark.parametrize("token", ["4242424242424242", "4242 4242 4242 4242", ""])
def test_card_numbers_are_never_sent_to_stripe(
    gateway: StripeGateway, fake: FakeStripe, token: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        gateway.create_payment(payment(token))
    assert caught.value.code == "invalid_payment_method"
    assert gateway.card_details(token) is None
    assert fake.requests == []


# -- idempotency ---------------------------------------------------------------------------


def test_retry_with_the_same_key_returns_the_same_payment(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    request = payment(idempotency_key="order-42-attempt-1")

    first = gateway.create_payment(request)
    second = gateway.create_payment(request)

    assert first == second
    assert len(fake.payment_intents) == 1
    calls = fake.calls("POST", PI_PATH)
    assert [c.idempotency_key for c in calls] == ["order-42-attempt-1"] * 2
    assert [c.replayed for c in calls] == [False, True]


def test_retried_decline_is_replayed_not_retried(gateway: StripeGateway, fake: FakeStripe) -> None:
    request = payment("pm_card_chargeDeclined", idempotency_key="declined-once")
    first = gateway.create_payment(request)
    second = gateway.create_payment(request)
    assert first == second and first.outcome is Outcome.DECLINED
    assert len(fake.payment_intents) == 1 and len(fake.charges) == 1


def test_same_key_with_another_body_is_a_conflict(gateway: StripeGateway, fake: FakeStripe) -> None:
    gateway.create_payment(payment(idempotency_key="k-reused"))
    with pytest.raises(Conflict) as caught:
        gateway.create_payment(payment(idempotency_key="k-reused", amount=2500))
    assert caught.value.code == "idempotency_key_reused"
    assert len(fake.payment_intents) == 1


def test_refund_retry_with_the_same_key_refunds_once(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    pi_id = gateway.create_payment(payment()).gateway_payment_id
    assert pi_id
    first = gateway.refund(pi_id, 700, "usd", idempotency_key="re-once")
    second = gateway.refund(pi_id, 700, "usd", idempotency_key="re-once")
    assert first == second
    assert len(fake.refunds) == 1


# -- processor failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (500, "gateway_error"),
        (503, "gateway_error"),
        ("timeout", "gateway_timeout"),
        ("connection_reset", "gateway_connection_lost"),
    ],
)
def test_processor_failures_raise_unavailable_without_hidden_retries(
    gateway: StripeGateway, fake: FakeStripe, fault: int | str, code: str
) -> None:
    fake.fail_next(1, fault)
    request = payment(idempotency_key=f"fault-{fault}")

    with pytest.raises(GatewayUnavailable) as caught:
        gateway.create_payment(request)

    assert caught.value.code == code
    assert code in OUTCOME_UNKNOWN_CODES  # Stripe may have acted: no failover elsewhere
    assert len(fake.requests) == 1  # max_network_retries=0: the SDK did not retry on its own
    assert fake.payment_intents == {}  # the fault came before processing

    retried = gateway.create_payment(request)  # the caller's retry, same key
    assert retried.outcome is Outcome.SUCCEEDED
    assert len(fake.payment_intents) == 1


def test_lost_response_then_retry_with_the_same_key_does_not_charge_twice(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(1, "timeout", after_processing=True)  # Stripe charged; the answer is lost
    request = payment(idempotency_key="lost-answer")

    with pytest.raises(GatewayUnavailable) as caught:
        gateway.create_payment(request)
    assert caught.value.code == "gateway_timeout"
    [charged] = fake.payment_intents.values()
    assert charged["status"] == "succeeded"

    retried = gateway.create_payment(request)

    assert retried.outcome is Outcome.SUCCEEDED
    assert retried.gateway_payment_id == charged["id"]
    assert len(fake.payment_intents) == 1
    assert fake.calls("POST", PI_PATH)[-1].replayed


def test_slow_stripe_times_out_at_the_configured_timeout(fake: FakeStripe) -> None:
    gateway = StripeGateway(KEY, api_base=fake.url, timeout=0.2)
    fake.delay(1.0)
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.retrieve("pi_whatever")
    assert caught.value.code == "gateway_timeout"
    assert len(fake.requests) == 1


def test_configured_retries_reuse_the_idempotency_key(fake: FakeStripe) -> None:
    gateway = StripeGateway(KEY, api_base=fake.url, timeout=1, max_network_retries=1)
    fake.fail_next(1, 500)

    result = gateway.create_payment(payment(idempotency_key="retry-me"))

    assert result.outcome is Outcome.SUCCEEDED
    calls = fake.calls("POST", PI_PATH)
    assert [c.status for c in calls] == [500, 200]  # one retry, as configured, no more
    assert {c.idempotency_key for c in calls} == {"retry-me"}


def test_rate_limit_is_unavailable_and_safe_to_fail_over(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(1, 429)
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.create_payment(payment())
    assert caught.value.code == "gateway_rate_limited"
    assert caught.value.code not in OUTCOME_UNKNOWN_CODES
    assert len(fake.requests) == 1


def test_unreachable_stripe_is_safe_to_fail_over() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = StripeGateway(KEY, api_base=f"http://127.0.0.1:{port}", timeout=0.5)
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.create_payment(payment())
    assert caught.value.code == "gateway_unreachable"
    assert caught.value.code not in OUTCOME_UNKNOWN_CODES


def test_bad_api_key_is_an_auth_failure(fake: FakeStripe) -> None:
    gateway = StripeGateway("sk_test_wrong", api_base=fake.url)
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.create_payment(payment())
    assert caught.value.code == "gateway_auth_failed"
    assert "sk_test_wrong" not in caught.value.message
    [call] = fake.requests
    assert (call.authorization, call.status) == ("Bearer sk_test_wrong", 401)
    assert fake.payment_intents == {}


def test_publishable_key_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="secret key"):
        StripeGateway("pk_test_123")


# -- card details before charging ----------------------------------------------------------


def test_card_details_of_a_payment_method(gateway: StripeGateway, fake: FakeStripe) -> None:
    details = gateway.card_details("pm_card_visa")
    assert details is not None
    assert (details.brand, details.last4, details.country) == ("visa", "4242", "US")
    charged = gateway.create_payment(payment())
    assert charged.card and charged.card.fingerprint == details.fingerprint
    assert fake.calls("GET", "/v1/payment_methods/pm_card_visa")


def test_card_details_degrade_to_none(gateway: StripeGateway, fake: FakeStripe) -> None:
    assert gateway.card_details("tok_visa") is None  # not a PaymentMethod: no request
    assert fake.requests == []
    assert gateway.card_details("pm_doesnotexist") is None
    fake.fail_next(1, 500)
    assert gateway.card_details("pm_card_visa") is None
    assert len(fake.requests) == 2


# -- configuration -------------------------------------------------------------------------


@pytest.fixture
def clean_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_from_settings_uses_stripe_api_base(
    fake: FakeStripe, monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fake.url)

    gateway = StripeGateway.from_settings()
    result = gateway.create_payment(payment())

    assert gateway.api_base == fake.url and gateway.livemode is False
    assert result.outcome is Outcome.SUCCEEDED
    assert fake.calls("POST", PI_PATH)[0].authorization == f"Bearer {KEY}"


def test_from_settings_with_a_merchant_key(fake: FakeStripe) -> None:
    merchant_key = "sk_test_merchant_own"
    fake.api_keys.add(merchant_key)
    settings = Settings(_env_file=None, stripe_secret_key=KEY, stripe_api_base=fake.url)
    gateway = StripeGateway.from_settings(settings, secret_key=merchant_key)
    gateway.create_payment(payment())
    assert fake.requests[0].authorization == f"Bearer {merchant_key}"


def test_from_settings_without_a_key_refuses() -> None:
    with pytest.raises(RuntimeError, match="STRIPE_SECRET_KEY"):
        StripeGateway.from_settings(Settings(_env_file=None, stripe_secret_key=None))


# -- the fake itself -----------------------------------------------------------------------


def test_fake_like_stripe_wants_a_return_url_for_automatic_payment_methods(
    fake: FakeStripe,
) -> None:
    """Why the gateway sends payment_method_types: Stripe's default (automatic payment methods)
    refuses a server-side confirm without a return_url."""
    client = stripe.StripeClient(KEY, base_addresses={"api": fake.url})
    params = {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    with pytest.raises(stripe.InvalidRequestError, match="return_url"):
        client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def test_fake_records_events_for_webhooks(gateway: StripeGateway, fake: FakeStripe) -> None:
    pi_id = gateway.create_payment(payment(idempotency_key="evt-1")).gateway_payment_id
    types = [e["type"] for e in fake.events]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    last = fake.events[-1]
    assert last["data"]["object"]["id"] == pi_id
    assert last["request"]["idempotency_key"] == "evt-1"


# -- disputes, payouts and balance transactions ---------------------------------------------

PDF = b"%PDF-1.7\n\xff\x00 a receipt"
PNG = b"\x89PNG\r\n\x1a\n\x00 a tracking page"


def disputed(gateway: StripeGateway, fake: FakeStripe, key: str = "dp") -> tuple[str, str]:
    """A charge the customer's bank disputes: its PaymentIntent id and Stripe's dispute id."""
    pi_id = gateway.create_payment(payment("pm_card_createDispute", idempotency_key=key))
    (dispute,) = [
        d for d in fake.disputes.values() if d["payment_intent"] == pi_id.gateway_payment_id
    ]
    return str(pi_id.gateway_payment_id), dispute["id"]


def test_submit_dispute_uploads_each_file_then_submits_the_evidence(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    _, dp = disputed(gateway, fake)
    evidence = DisputeEvidence(
        uncategorized_text="Delivered and signed for.", customer_email_address="ada@example.com"
    )
    files = [
        EvidenceFile("receipt.pdf", "application/pdf", PDF, EvidenceKind.RECEIPT),
        EvidenceFile("track.png", "image/png", PNG, EvidenceKind.SHIPPING_DOCUMENTATION),
    ]
    state = gateway.submit_dispute(dp, evidence, files)

    assert state == DisputeState(dp, DisputeStage.UNDER_REVIEW) and not state.decided
    uploads = fake.calls("POST", "/v1/files")
    assert [u.params["purpose"] for u in uploads] == ["dispute_evidence"] * 2
    assert [u.uploads["file"] for u in uploads] == [("receipt.pdf", PDF), ("track.png", PNG)]
    receipt, tracking = (f["id"] for f in fake.files.values())
    [update] = fake.calls("POST", f"/v1/disputes/{dp}")
    assert update.params == {
        "evidence": {
            "uncategorized_text": "Delivered and signed for.",
            "customer_email_address": "ada@example.com",
            "receipt": receipt,
            "shipping_documentation": tracking,
        },
        "submit": "true",
    }
    assert fake.disputes[dp]["status"] == "under_review"
    # A retry (its answer was lost) replays: no second upload, no second submission.
    assert gateway.submit_dispute(dp, evidence, files) == state
    assert len(fake.files) == 2 and fake.disputes[dp]["evidence_details"]["submission_count"] == 1


def test_stripe_takes_one_file_per_kind_of_evidence(gateway: StripeGateway, fake: FakeStripe):
    _, dp = disputed(gateway, fake)
    two = [EvidenceFile(f"{i}.pdf", "application/pdf", PDF) for i in range(2)]
    before = len(fake.requests)
    with pytest.raises(ValidationFailed, match="one file of each kind") as caught:
        gateway.submit_dispute(dp, DisputeEvidence(uncategorized_text="x"), two)
    assert caught.value.code == "evidence_one_file_per_kind"
    assert len(fake.requests) == before  # refused before anything was sent


def test_accept_dispute_closes_it_as_lost_once(gateway: StripeGateway, fake: FakeStripe) -> None:
    _, dp = disputed(gateway, fake)
    assert gateway.accept_dispute(dp) == DisputeState(dp, DisputeStage.LOST)
    assert fake.disputes[dp]["status"] == "lost"
    assert fake.events[-1]["type"] == "charge.dispute.closed"
    with pytest.raises(Conflict, match="already lost") as caught:
        gateway.submit_dispute(dp, DisputeEvidence(uncategorized_text="late"), [])
    assert caught.value.code == "dispute_refused"


def test_dispute_errors_are_ours_never_the_sdks(gateway: StripeGateway, fake: FakeStripe) -> None:
    with pytest.raises(NotFound):
        gateway.accept_dispute("dp_nope")
    _, dp = disputed(gateway, fake)
    fake.fail_next(1, 500)
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.accept_dispute(dp)
    assert caught.value.outcome_unknown
    assert fake.disputes[dp]["status"] == "needs_response"


def test_winning_evidence_is_decided_a_moment_later_by_events(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    _, dp = disputed(gateway, fake)
    state = gateway.submit_dispute(dp, DisputeEvidence(uncategorized_text="winning_evidence"), [])
    assert state.stage is DisputeStage.UNDER_REVIEW  # as Stripe answers the update
    assert fake.disputes[dp]["status"] == "won"
    types = [e["type"] for e in fake.events if e["data"]["object"]["id"] == dp]
    assert types == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]


def test_payouts_and_balance_transactions_page_through_stripe_lists(
    gateway: StripeGateway, fake: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.gateways import stripe_gateway

    monkeypatch.setattr(stripe_gateway, "_PAGE_SIZE", 2)  # pages of 2, as if of 100
    paid = [gateway.create_payment(payment(idempotency_key=f"p{i}")) for i in range(3)]
    first = fake.pay_out(created=1_700_000_000)
    gateway.create_payment(payment(idempotency_key="later"))
    second = fake.pay_out(failure_code="account_closed")

    payouts = gateway.list_payouts()
    assert [(p.id, p.status, p.failure_code) for p in payouts] == [
        (second["id"], "failed", "account_closed"),
        (first["id"], "paid", None),
    ]
    assert payouts[1].amount == sum(
        bt["net"]
        for bt in fake.balance_transactions.values()
        if fake.paid_out.get(bt["id"]) == first["id"] and bt["type"] == "charge"
    )
    assert payouts[1].currency == "USD" and payouts[1].created.year == 2023
    after = payouts[1].created
    assert [p.id for p in gateway.list_payouts(created_after=after)] == [second["id"]]
    assert [p.id for p in gateway.list_payouts(limit=1)] == [second["id"]]

    listed = gateway.list_balance_transactions(payout_id=first["id"])
    assert sorted(bt.type for bt in listed) == ["charge", "charge", "charge", "payout"]
    charges = {bt.source_id for bt in listed if bt.type == "charge"}
    assert charges == {p.gateway_payment_id for p in paid}  # the PaymentIntent, not ch_...
    assert {bt.payout_id for bt in listed} == {first["id"]}
    for bt in listed:
        assert bt.fee + bt.net == bt.amount and bt.currency == "USD"
    pages = [c.params.get("starting_after") for c in fake.calls("GET", "/v1/balance_transactions")]
    assert len(pages) == 2 and pages[0] is None and pages[1] is not None
    everything = gateway.list_balance_transactions()
    assert len(everything) == len(fake.balance_transactions) == 6


def test_payout_events_are_recorded(gateway: StripeGateway, fake: FakeStripe) -> None:
    gateway.create_payment(payment())
    fake.pay_out()
    fake.pay_out(failure_code="no_account")
    types = [e["type"] for e in fake.events if e["type"].startswith("payout.")]
    assert types == ["payout.created", "payout.paid", "payout.created", "payout.failed"]
