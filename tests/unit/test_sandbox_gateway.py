"""The sandbox processor: Stripe's test cards, their outcomes, and nothing else."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pytest

from backend.core.errors import ValidationFailed
from backend.gateways import cards
from backend.gateways.base import (
    CardDetails,
    Gateway,
    GatewayUnavailable,
    Outcome,
    PaymentRequest,
    PaymentResult,
    RiskTest,
    SetupResult,
)
from backend.gateways.sandbox import (
    NOT_A_TEST_CARD_MESSAGE,
    TEST_CARD_NUMBERS,
    TEST_TOKENS,
    SandboxGateway,
)

EXP_YEAR = datetime.now(UTC).year + 3


def request(token: str, *, capture: bool = True, amount: int = 2500, **kw) -> PaymentRequest:
    return PaymentRequest(
        amount=amount,
        currency=kw.pop("currency", "USD"),
        payment_method_type=kw.pop("payment_method_type", "card"),
        payment_method_token=token,
        capture=capture,
        idempotency_key="idem-1",
        **kw,
    )


@pytest.fixture
def gw() -> SandboxGateway:
    return SandboxGateway()


def test_implements_the_gateway_protocol(gw: SandboxGateway):
    as_gateway: Gateway = gw  # checked by type checkers; here: the attributes exist
    assert as_gateway.name == "sandbox"
    for method in ("create_payment", "capture", "void", "refund", "card_details"):
        assert callable(getattr(gw, method))


# -- cards that succeed --------------------------------------------------------------------

SUCCEEDING = [
    ("4242424242424242", "visa", "US"),
    ("5555555555554444", "mastercard", "US"),
    ("2223003122003222", "mastercard", "US"),
    ("5200828282828210", "mastercard", "US"),
    ("378282246310005", "amex", "US"),
    ("371449635398431", "amex", "US"),
    ("6011111111111117", "discover", "US"),
    ("3056930009020004", "diners", "US"),
    ("3566002020360505", "jcb", "JP"),
    ("6200000000000005", "unionpay", "CN"),
]


@pytest.mark.parametrize(("number", "brand", "country"), SUCCEEDING)
def test_succeeding_cards_capture_at_once(gw: SandboxGateway, number, brand, country):
    result = gw.create_payment(request(number))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.gateway_payment_id.startswith("sbx_pi_")
    assert result.decline_code is None and result.message is None
    assert result.dispute_expected is False
    assert result.card == CardDetails(
        brand=brand,
        last4=number[-4:],
        exp_month=12,
        exp_year=EXP_YEAR,
        fingerprint=cards.fingerprint(number),
        country=country,
    )


@pytest.mark.parametrize(("number", "brand", "country"), SUCCEEDING)
def test_succeeding_cards_authorize_when_capture_is_later(gw, number, brand, country):
    result = gw.create_payment(request(number, capture=False))
    assert result.outcome is Outcome.AUTHORIZED
    assert result.card.brand == brand


@pytest.mark.parametrize(
    "formatted", ["4242 4242 4242 4242", "4242-4242-4242-4242", " 4242424242424242 "]
)
def test_spaces_and_dashes_are_fine(gw: SandboxGateway, formatted: str):
    result = gw.create_payment(request(formatted))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.card.last4 == "4242"
    assert result.card.fingerprint == cards.fingerprint("4242424242424242")


def test_every_payment_gets_a_new_id(gw: SandboxGateway):
    ids = {gw.create_payment(request("4242424242424242")).gateway_payment_id for _ in range(50)}
    assert len(ids) == 50


# -- declines ------------------------------------------------------------------------------

DECLINES = [
    ("4000000000000002", "pm_card_chargeDeclined", "card_declined", "Your card was declined."),
    (
        "4000000000009995",
        "pm_card_chargeDeclinedInsufficientFunds",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    (
        "4000000000000069",
        "pm_card_chargeDeclinedExpiredCard",
        "expired_card",
        "Your card has expired.",
    ),
    (
        "4000000000000127",
        "pm_card_chargeDeclinedIncorrectCvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
]


@pytest.mark.parametrize(("number", "token", "code", "message"), DECLINES)
@pytest.mark.parametrize("capture", [True, False])
def test_declining_cards_and_tokens(gw, number, token, code, message, capture):
    for method in (number, token):
        result = gw.create_payment(request(method, capture=capture))
        assert result.outcome is Outcome.DECLINED
        assert result.decline_code == code
        assert result.message == message
        assert result.gateway_payment_id.startswith("sbx_pi_")
        assert result.card.last4 == number[-4:]
        assert result.card.brand == "visa"


# -- 3-D Secure ----------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["4000002500003155", "pm_card_authenticationRequiredOnSetup"])
def test_authentication_required_then_approved(gw: SandboxGateway, token: str):
    first = gw.create_payment(request(token))
    assert first.outcome is Outcome.REQUIRES_ACTION
    assert first.decline_code is None
    assert first.card.last4 == "3155"
    done = gw.complete_action(first.gateway_payment_id, approved=True, capture=True)
    assert done.outcome is Outcome.SUCCEEDED
    assert done.gateway_payment_id == first.gateway_payment_id


def test_authentication_approved_without_capture_authorizes(gw: SandboxGateway):
    first = gw.create_payment(request("pm_card_authenticationRequired", capture=False))
    done = gw.complete_action(first.gateway_payment_id, approved=True, capture=False)
    assert done.outcome is Outcome.AUTHORIZED


def test_authentication_failed_declines(gw: SandboxGateway):
    first = gw.create_payment(request("4000 0025 0000 3155"))
    done = gw.complete_action(first.gateway_payment_id, approved=False, capture=True)
    assert done.outcome is Outcome.DECLINED
    assert done.decline_code == "authentication_failed"
    assert done.message == "We couldn't verify your card. Try again or use another card."


def test_complete_action_works_in_another_process(gw: SandboxGateway):
    """Nothing is remembered: a fresh gateway (another worker) completes the action."""
    first = gw.create_payment(request("4000002500003155"))
    other = SandboxGateway()
    assert (
        other.complete_action(first.gateway_payment_id, approved=True, capture=True).outcome
        is Outcome.SUCCEEDED
    )


# -- disputes ------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["4000000000000259", "pm_card_createDispute"])
def test_dispute_card_succeeds_and_announces_the_dispute(gw: SandboxGateway, token: str):
    result = gw.create_payment(request(token))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.dispute_expected is True
    assert result.card.last4 == "0259"
    assert gw.create_payment(request(token, capture=False)).outcome is Outcome.AUTHORIZED


# -- tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "number", "outcome"),
    [
        ("pm_card_visa", "4242424242424242", Outcome.SUCCEEDED),
        ("pm_card_bypassPending", "4000000000000077", Outcome.SUCCEEDED),
        ("pm_card_mastercard", "5555555555554444", Outcome.SUCCEEDED),
        ("pm_card_mastercard_debit", "5200828282828210", Outcome.SUCCEEDED),
        ("pm_card_amex", "378282246310005", Outcome.SUCCEEDED),
        ("pm_card_discover", "6011111111111117", Outcome.SUCCEEDED),
        ("pm_card_diners", "3056930009020004", Outcome.SUCCEEDED),
        ("pm_card_jcb", "3566002020360505", Outcome.SUCCEEDED),
        ("pm_card_unionpay", "6200000000000005", Outcome.SUCCEEDED),
        ("pm_card_chargeDeclined", "4000000000000002", Outcome.DECLINED),
        ("pm_card_chargeDeclinedInsufficientFunds", "4000000000009995", Outcome.DECLINED),
        ("pm_card_chargeDeclinedExpiredCard", "4000000000000069", Outcome.DECLINED),
        ("pm_card_chargeDeclinedIncorrectCvc", "4000000000000127", Outcome.DECLINED),
        ("pm_card_authenticationRequiredOnSetup", "4000002500003155", Outcome.REQUIRES_ACTION),
        ("pm_card_authenticationRequired", "4000002760003184", Outcome.REQUIRES_ACTION),
        ("pm_card_chargeCustomerFail", "4000000000000341", Outcome.DECLINED),
        ("pm_card_createDispute", "4000000000000259", Outcome.SUCCEEDED),
        ("pm_card_radarBlock", "4100000000000019", Outcome.DECLINED),
        ("pm_card_chargeDeclinedFraudulent", "4100000000000019", Outcome.DECLINED),
        ("pm_card_riskLevelElevated", "4000000000009235", Outcome.SUCCEEDED),
    ],
)
def test_tokens_behave_as_their_cards(gw: SandboxGateway, token, number, outcome):
    by_token = gw.create_payment(request(token))
    by_number = gw.create_payment(request(number))
    assert by_token.outcome is by_number.outcome is outcome
    assert by_token.card == by_number.card  # same fingerprint too
    assert by_token.dispute_expected == by_number.dispute_expected


def test_every_listed_number_and_token_is_a_valid_card():
    assert len(TEST_CARD_NUMBERS) == 21 and len(TEST_TOKENS) == 20
    for number in TEST_CARD_NUMBERS:
        assert cards.luhn_valid(number), number
        assert len(number) in cards.card_lengths(cards.detect_brand(number)), number


# -- risk test cards -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "risk_test"),
    [
        ("4100 0000 0000 0019", RiskTest.ALWAYS_BLOCK),
        ("pm_card_radarBlock", RiskTest.ALWAYS_BLOCK),
        ("pm_card_chargeDeclinedFraudulent", RiskTest.ALWAYS_BLOCK),
        ("4000 0000 0000 9235", RiskTest.ELEVATED_RISK),
        ("pm_card_riskLevelElevated", RiskTest.ELEVATED_RISK),
    ],
)
def test_risk_test_cards_tell_the_risk_rules_what_they_ask_for(gw, token, risk_test):
    details = gw.card_details(token)
    assert details.risk_test is risk_test
    assert (details.brand, details.country) == ("visa", "US")


def test_other_cards_ask_nothing_of_the_risk_rules(gw: SandboxGateway):
    assert {gw.card_details(n).risk_test for n in TEST_CARD_NUMBERS} == {
        None,
        RiskTest.ALWAYS_BLOCK,
        RiskTest.ELEVATED_RISK,
    }
    assert gw.card_details("pm_card_visa").risk_test is None


def test_the_block_card_is_declined_as_fraudulent_if_it_ever_reaches_the_processor(gw):
    # The risk rules refuse it first; should it get here, it fails as at Stripe.
    result = gw.create_payment(request("4100000000000019"))
    assert (result.outcome, result.decline_code) == (Outcome.DECLINED, "fraudulent")
    assert result.message == "Your card was declined."
    assert gw.create_payment(request("4000000000009235")).outcome is Outcome.SUCCEEDED


# -- refusals ------------------------------------------------------------------------------

REAL_LOOKING = "4539148803436467"  # Luhn-valid Visa number that is not a test card


@pytest.mark.parametrize(
    "token",
    [
        REAL_LOOKING,
        "4539 1488 0343 6467",
        "4242424242424241",  # a test number with a typo
        "5555555555554443",
        "pm_card_Visa",  # tokens are case-sensitive, as at Stripe
        "pm_card_visa_chargeDeclined",
        "pm_1NabcdefGHIJKL",  # a real Stripe PaymentMethod id
        "tok_visa",
        "",
        "   ",
        "4242",
    ],
)
def test_anything_but_a_test_card_is_refused(gw: SandboxGateway, token: str):
    assert cards.luhn_valid(REAL_LOOKING)
    with pytest.raises(ValidationFailed) as info:
        gw.create_payment(request(token))
    error = info.value
    assert error.code == "not_a_test_card"
    assert error.param == "paymentMethod.token"
    assert error.status == 422
    assert "only" in error.message and "test card" in error.message
    assert "4242 4242 4242 4242" in error.message
    assert error.message == NOT_A_TEST_CARD_MESSAGE
    # The refused number is never echoed back.
    if len(token.strip()) > 4:
        assert token.strip() not in str(error) and token.strip() not in repr(error.to_dict())
    assert gw.card_details(token) is None


def test_non_card_methods_and_bad_amounts_are_refused(gw: SandboxGateway):
    with pytest.raises(ValidationFailed) as info:
        gw.create_payment(request("pm_card_visa", payment_method_type="bank_transfer"))
    assert info.value.code == "payment_method_unsupported"
    for amount in (0, -1):
        with pytest.raises(ValidationFailed) as info:
            gw.create_payment(request("pm_card_visa", amount=amount))
        assert info.value.param == "amount"
    with pytest.raises(ValidationFailed) as info:
        gw.create_payment(request("pm_card_visa", currency="US"))
    assert info.value.param == "currency"


# -- card_details --------------------------------------------------------------------------


def test_card_details_before_charging(gw: SandboxGateway):
    details = gw.card_details("pm_card_amex")
    assert details == CardDetails(
        brand="amex",
        last4="0005",
        exp_month=12,
        exp_year=EXP_YEAR,
        fingerprint=cards.fingerprint("378282246310005"),
        country="US",
    )
    assert gw.card_details("3566 0020 2036 0505").country == "JP"
    assert gw.card_details(REAL_LOOKING) is None
    assert gw.card_details("nonsense") is None
    assert gw.card_details(None) is None  # type: ignore[arg-type]


# -- capture, void, refund: by id alone ----------------------------------------------------


def test_capture_void_refund_by_id_from_a_fresh_gateway(gw: SandboxGateway):
    authorized = gw.create_payment(request("pm_card_visa", capture=False))
    other = SandboxGateway()  # another process: nothing shared

    captured = other.capture(authorized.gateway_payment_id, 2500, "USD", idempotency_key="k1")
    assert captured.outcome is Outcome.SUCCEEDED
    assert captured.gateway_payment_id == authorized.gateway_payment_id

    refund = other.refund(authorized.gateway_payment_id, 1000, "USD", idempotency_key="k2")
    assert refund.succeeded and refund.failure_reason is None
    assert refund.gateway_refund_id.startswith("sbx_re_")
    second = other.refund(authorized.gateway_payment_id, 500, "USD", idempotency_key="k3")
    assert second.gateway_refund_id != refund.gateway_refund_id

    held = gw.create_payment(request("pm_card_visa", capture=False))
    assert other.void(held.gateway_payment_id, idempotency_key="k4") is None


def test_demo_seed_sandbox_ids_can_be_refunded(gw: SandboxGateway):
    # backend.services.merchant.demo gives its sandbox payments ids of the form "sbx_<16 hex>".
    assert gw.refund("sbx_0123456789abcdef", 100, "USD", idempotency_key="k").succeeded


@pytest.mark.parametrize("bad_id", ["pi_3Nabc123", "", "sbx_", "sbx_pi_a b", None, "sbx_pi_x;--"])
def test_unknown_ids_are_the_processors_error(gw: SandboxGateway, bad_id):
    with pytest.raises(GatewayUnavailable) as info:
        gw.capture(bad_id, 100, "USD", idempotency_key="k")
    assert info.value.code == "resource_missing"
    with pytest.raises(GatewayUnavailable):
        gw.void(bad_id, idempotency_key="k")
    with pytest.raises(GatewayUnavailable):
        gw.refund(bad_id, 100, "USD", idempotency_key="k")
    with pytest.raises(GatewayUnavailable):
        gw.complete_action(bad_id, approved=True, capture=True)


def test_capture_and_refund_check_the_amount(gw: SandboxGateway):
    pid = gw.create_payment(request("pm_card_visa", capture=False)).gateway_payment_id
    with pytest.raises(ValidationFailed):
        gw.capture(pid, 0, "USD", idempotency_key="k")
    with pytest.raises(ValidationFailed):
        gw.refund(pid, -5, "USD", idempotency_key="k")
    with pytest.raises(ValidationFailed):
        gw.refund(pid, True, "USD", idempotency_key="k")  # type: ignore[arg-type]


# -- unavailable mode and latency ----------------------------------------------------------


def test_unavailable_gateway_raises_on_every_processor_call():
    up = SandboxGateway()
    pid = up.create_payment(request("pm_card_visa", capture=False)).gateway_payment_id
    down = SandboxGateway(unavailable=True)
    calls = [
        lambda: down.create_payment(request("pm_card_visa")),
        lambda: down.create_payment(request("pm_card_chargeDeclined")),
        lambda: down.capture(pid, 100, "USD", idempotency_key="k"),
        lambda: down.void(pid, idempotency_key="k"),
        lambda: down.refund(pid, 100, "USD", idempotency_key="k"),
        lambda: down.complete_action(pid, approved=True, capture=True),
    ]
    for call in calls:
        with pytest.raises(GatewayUnavailable) as info:
            call()
        assert info.value.code == "gateway_unavailable"
    # What the token itself says needs no processor: risk rules still get the card facts.
    assert down.card_details("pm_card_visa").last4 == "4242"


def test_latency_is_simulated_when_asked():
    gw = SandboxGateway(latency_s=0.05)
    started = time.perf_counter()
    gw.create_payment(request("pm_card_visa"))
    assert time.perf_counter() - started >= 0.05
    with pytest.raises(ValueError):
        SandboxGateway(latency_s=-1)


# -- the number is never kept --------------------------------------------------------------


@pytest.mark.parametrize("number", [n for n in TEST_CARD_NUMBERS])
def test_the_card_number_appears_in_no_result(gw: SandboxGateway, number: str):
    results: list[PaymentResult] = [
        gw.create_payment(request(number)),
        gw.create_payment(request(number, capture=False)),
    ]
    details = gw.card_details(number)
    texts = [repr(details), repr(vars(details)), repr(asdict(details)), repr(vars(gw)), repr(gw)]
    for result in results:
        texts += [repr(result), repr(vars(result)), repr(asdict(result))]
    pid = results[1].gateway_payment_id
    if results[1].outcome is Outcome.REQUIRES_ACTION:
        results.append(gw.complete_action(pid, approved=True, capture=True))
    texts.append(repr(gw.capture(pid, 100, "USD", idempotency_key="k")))
    texts.append(repr(gw.refund(pid, 100, "USD", idempotency_key="k")))
    for text in texts:
        assert number not in text
        assert number[:6] not in text  # not even the BIN


# -- disputes and payouts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Signed for: winning_evidence", "won"),
        ("losing_evidence, alas", "lost"),
        ("Delivered on time.", "under_review"),
    ],
)
def test_sandbox_decides_a_dispute_by_stripes_test_words(text: str, stage: str) -> None:
    from backend.gateways.base import DisputeEvidence, DisputeStage, EvidenceFile

    files = [EvidenceFile("r.pdf", "application/pdf", b"%PDF-1.7")]
    state = SandboxGateway().submit_dispute("sbx_dp_pay_123456", DisputeEvidence(text), files)
    assert state.stage == DisputeStage(stage)
    assert state.decided == (stage != "under_review")


def test_sandbox_accepting_loses_and_keeps_no_balance() -> None:
    from backend.gateways.base import DisputeStage, GatewayUnavailable

    sandbox = SandboxGateway()
    assert sandbox.accept_dispute("sbx_dp_pay_123456").stage == DisputeStage.LOST
    assert sandbox.list_payouts() == [] and sandbox.list_balance_transactions("po_1") == []
    with pytest.raises(GatewayUnavailable):
        sandbox.accept_dispute("dp_not_ours")
    with pytest.raises(GatewayUnavailable):
        SandboxGateway(unavailable=True).accept_dispute("sbx_dp_pay_123456")


# -- saved cards -----------------------------------------------------------------------------


def saved(gw: SandboxGateway, token: str) -> tuple[str, SetupResult]:
    customer = gw.create_customer(
        email="a@example.com", name=None, reference="cus_1", idempotency_key="k"
    )
    return customer, gw.save_card(customer, token, idempotency_key="k")


@pytest.mark.parametrize(
    ("token", "last4", "authenticate"),
    [
        ("pm_card_visa", "4242", False),
        ("4000 0000 0000 0341", "0341", False),
        ("pm_card_chargeCustomerFail", "0341", False),
        ("4000002760003184", "3184", True),
        ("pm_card_authenticationRequiredOnSetup", "3155", True),
        ("pm_card_createDispute", "0259", False),
    ],
)
def test_cards_that_save(gw: SandboxGateway, token: str, last4: str, authenticate: bool):
    customer, result = saved(gw, token)
    assert customer.startswith("sbx_cus_")
    assert result.saved and result.decline_code is None
    assert result.gateway_payment_method_id.startswith("sbx_pm_")
    assert last4 not in result.gateway_payment_method_id.split("_")[2]  # a digest, no digits kept
    assert result.card.last4 == last4
    assert result.authentication_required is authenticate


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
        ("pm_card_radarBlock", "fraudulent"),
    ],
)
def test_cards_whose_issuer_refuses_to_save(gw: SandboxGateway, token: str, code: str):
    _, result = saved(gw, token)
    assert not result.saved
    assert result.gateway_payment_method_id is None
    assert result.decline_code == code and result.message


def test_saving_refuses_what_is_not_a_test_card(gw: SandboxGateway):
    customer = gw.create_customer(email=None, name=None, reference="cus_1", idempotency_key="k")
    with pytest.raises(ValidationFailed) as refused:
        gw.save_card(customer, "4111111111111111", idempotency_key="k")
    assert refused.value.code == "not_a_test_card"
    with pytest.raises(GatewayUnavailable):
        gw.save_card("cus_not_ours", "pm_card_visa", idempotency_key="k")


def off_session(token: str, customer: str | None) -> PaymentRequest:
    return replace(request(token), gateway_customer_id=customer, off_session=True)


def test_saved_cards_charge_as_their_test_cards_in_any_process(gw: SandboxGateway):
    customer, visa = saved(gw, "pm_card_visa")
    other = SandboxGateway()  # another worker: nothing is remembered, the id says it all
    charged = other.create_payment(off_session(visa.gateway_payment_method_id, customer))
    assert charged.outcome is Outcome.SUCCEEDED and charged.card == visa.card

    customer, failing = saved(gw, "pm_card_chargeCustomerFail")
    declined = gw.create_payment(off_session(failing.gateway_payment_method_id, customer))
    assert declined.outcome is Outcome.DECLINED and declined.decline_code == "card_declined"

    customer, strict = saved(gw, "4000002760003184")
    waiting = gw.create_payment(off_session(strict.gateway_payment_method_id, customer))
    assert waiting.outcome is Outcome.REQUIRES_ACTION
    assert waiting.decline_code == "authentication_required"
    on_session = replace(off_session(strict.gateway_payment_method_id, customer), off_session=False)
    challenged = gw.create_payment(on_session)
    assert challenged.outcome is Outcome.REQUIRES_ACTION and challenged.decline_code is None


def test_a_saved_card_is_charged_with_its_customer_only(gw: SandboxGateway):
    _, visa = saved(gw, "pm_card_visa")
    with pytest.raises(ValidationFailed):
        gw.create_payment(off_session(visa.gateway_payment_method_id, None))
    with pytest.raises(ValidationFailed) as forged:
        gw.create_payment(off_session("sbx_pm_0000000000000000_abcdefgh", "sbx_cus_abcdefgh12"))
    assert forged.value.code == "not_a_test_card"


def test_detach(gw: SandboxGateway):
    _, visa = saved(gw, "pm_card_visa")
    gw.detach_card(visa.gateway_payment_method_id, idempotency_key="k")
    with pytest.raises(GatewayUnavailable):
        gw.detach_card("pm_123", idempotency_key="k")
