"""The built-in test processor: deterministic, offline, and for published test cards only.

It behaves as Stripe's test cards do, so a merchant who tests here meets the same outcomes
later in Stripe's test mode. It refuses every other number (`not_a_test_card`), so a real card
typed into a test checkout is never "charged", and it keeps nothing: a card's brand, last4,
expiry, country and keyed fingerprint are handed back, never the number.

Test cards (numbers may carry spaces or dashes):

    number               brand       country  outcome
    4242424242424242     visa        US       succeeds
    4000000000000002     visa        US       declined: card_declined
    4000000000009995     visa        US       declined: insufficient_funds
    4000000000000069     visa        US       declined: expired_card
    4000000000000127     visa        US       declined: incorrect_cvc
    4000002500003155     visa        US       REQUIRES_ACTION (3-D Secure), then complete_action
    4000002760003184     visa        DE       REQUIRES_ACTION on every charge, off session too
    4000000000000341     visa        US       saves for a customer, then every charge declines
    4000000000000259     visa        US       succeeds, dispute_expected=True
    4100000000000019     visa        US       risk test card: always blocked by risk (**)
    4000000000009235     visa        US       risk test card: elevated risk, in review (**)
    5555555555554444     mastercard  US       succeeds
    2223003122003222     mastercard  US       succeeds (2-series)
    5200828282828210     mastercard  US       succeeds (debit)
    378282246310005      amex        US       succeeds
    371449635398431      amex        US       succeeds
    6011111111111117     discover    US       succeeds
    3056930009020004     diners      US       succeeds
    3566002020360505     jcb         JP       succeeds
    6200000000000005     unionpay    CN       succeeds

Stripe's test PaymentMethod ids stand for these numbers: pm_card_visa (4242), pm_card_mastercard
(4444), pm_card_mastercard_debit (8210), pm_card_amex (0005), pm_card_discover,
pm_card_diners, pm_card_jcb, pm_card_unionpay, pm_card_chargeDeclined (0002),
pm_card_chargeDeclinedInsufficientFunds (9995), pm_card_chargeDeclinedExpiredCard (0069),
pm_card_chargeDeclinedIncorrectCvc (0127), pm_card_authenticationRequiredOnSetup (3155),
pm_card_authenticationRequired (3184), pm_card_chargeCustomerFail (0341),
pm_card_createDispute (0259), pm_card_radarBlock and its alias
pm_card_chargeDeclinedFraudulent (0019), and pm_card_riskLevelElevated (9235). A token and its
number share a fingerprint.

Wallets: the checkout's test wallet hands over a tokenised card, as Apple Pay and Google Pay do
through Stripe. Its tokens are "pm_apple_pay_<card>" and "pm_google_pay_<card>", where
"pm_card_<card>" is one of the ids above (pm_apple_pay_visa: Visa 4242 in Apple Pay;
pm_google_pay_chargeDeclined: a declined card in Google Pay). The card behaves as its own token
does; its details carry the wallet (CardDetails.wallet, Stripe's card.wallet.type).

(**) Risk test cards, Stripe's Radar test cards: `card_details` reports the risk outcome they
ask for (CardDetails.risk_test) and the risk rules, in test mode, block the first and flag the
second for review (services.payments.risk). The risk block happens before any gateway; should
0019 reach this processor all the same, it is declined as fraudulent, as at Stripe. 9235
otherwise behaves as 4242.

Countries: Stripe issues its test cards as US cards; JCB and UnionPay cards are given their
home countries (Japan, China) so country rules (a card from one country, a billing address in
another) can be tried in the sandbox with a card number alone.

Saved cards (save_card, for a customer made with create_customer): as Stripe's SetupIntents,
a card that declines charges is refused when it is saved (its decline code), except 0341, which
saves and then declines every charge (card_declined). The 3-D Secure cards save, reported as
needing authentication: charged off session (the customer is not there) they end in
REQUIRES_ACTION with decline_code `authentication_required`; on session they ask for 3-D Secure
as ever. (At Stripe, 3155 set up with the customer's authentication would then pass off
session; a card saved through the API was never authenticated, so here it does not.) A saved
card's id, "sbx_pm_<digest>_<random>", names its test card by an unkeyed digest of the public
test number, never the number, so any process can charge it; charging one needs its customer
(PaymentRequest.gateway_customer_id), as at Stripe.

Every card expires 12/(this year + 3). The expired-card decline is the card's behaviour (as at
Stripe), not its expiry date.

Statelessness: ids are random ("sbx_pi_...", "sbx_re_..."), and capture, void, refund and
complete_action work from the id alone, in any process: the service layer keeps the state in the
database and checks amounts and transitions. The sandbox keeps no memory at all, so it cannot
disagree with itself between processes; it does not deduplicate idempotency keys either (the
service layer's idempotency and attempt records do that).

Disputes follow Stripe's test convention: a submitted response whose text contains
`winning_evidence` wins at once, one containing `losing_evidence` loses at once, any other stays
under review (the sandbox never decides it later: nothing runs behind it). Accepting a dispute
loses it. Payouts and balance transactions: the sandbox keeps no processor-side balance (the
money of test payments goes nowhere), so both lists are always empty.

Errors: a token that is not a test card, or a malformed request (amount, currency, method
type), raises ValidationFailed (422: the caller's mistake, never worth another gateway). An id
that is not a sandbox id raises GatewayUnavailable(code="resource_missing"), as a processor
answering "no such payment" with an error of its own. `unavailable=True` makes every call that
would reach the processor raise GatewayUnavailable, for failover tests; `card_details` is a
local lookup of what the token itself says and keeps answering.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from enum import Enum

from backend.core.config import get_settings
from backend.core.errors import ValidationFailed
from backend.core.security import random_token
from backend.gateways import cards, sandbox_bank
from backend.gateways.base import (
    CardDetails,
    DisputeEvidence,
    DisputeStage,
    DisputeState,
    EvidenceFile,
    GatewayUnavailable,
    Outcome,
    PaymentRequest,
    PaymentResult,
    ProcessorBalanceTransaction,
    ProcessorPayout,
    RefundResult,
    RefundState,
    RiskTest,
    SetupResult,
)

PAYMENT_ID_PREFIX = "sbx_pi_"
REFUND_ID_PREFIX = "sbx_re_"
_ID_RANDOM_LENGTH = 24  # base62: 142 bits

# Any sandbox-issued id: "sbx_pi_<base62>" now; "sbx_<hex>" from the demo seed's payments.
_SANDBOX_ID = re.compile(r"sbx_[0-9A-Za-z_]{8,100}")

# Stripe's test-mode words that decide a submitted dispute (in any evidence text field).
WINNING_EVIDENCE = "winning_evidence"
LOSING_EVIDENCE = "losing_evidence"

EXPIRY_MONTH = 12
EXPIRY_YEARS_AHEAD = 3

NOT_A_TEST_CARD_MESSAGE = (
    "The sandbox accepts only test cards: use 4242 4242 4242 4242 with any future expiry date "
    "and any security code, or another published test card."
)


class _Behaviour(Enum):
    SUCCEED = "succeed"
    DECLINE_GENERIC = "card_declined"
    DECLINE_INSUFFICIENT_FUNDS = "insufficient_funds"
    DECLINE_EXPIRED = "expired_card"
    DECLINE_INCORRECT_CVC = "incorrect_cvc"
    REQUIRE_AUTHENTICATION = "authentication_required"
    DISPUTE = "dispute"
    DECLINE_FRAUDULENT = "fraudulent"
    # Saves for a customer, then every charge is declined (Stripe's chargeCustomerFail).
    DECLINE_AFTER_SAVE = "card_declined_after_save"


DECLINE_MESSAGES: dict[str, str] = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "fraudulent": "Your card was declined.",  # as Stripe words it: never tell why
    "authentication_failed": "We couldn't verify your card. Try again or use another card.",
}
REQUIRES_ACTION_MESSAGE = "Your bank needs you to confirm this payment."


@dataclass(frozen=True)
class _TestCard:
    number: str
    country: str
    behaviour: _Behaviour
    risk_test: RiskTest | None = None


_CARDS: dict[str, _TestCard] = {
    card.number: card
    for card in (
        _TestCard("4242424242424242", "US", _Behaviour.SUCCEED),
        _TestCard("4000000000000077", "US", _Behaviour.SUCCEED),  # funds available at once
        _TestCard("4000000000000002", "US", _Behaviour.DECLINE_GENERIC),
        _TestCard("4000000000009995", "US", _Behaviour.DECLINE_INSUFFICIENT_FUNDS),
        _TestCard("4000000000000069", "US", _Behaviour.DECLINE_EXPIRED),
        _TestCard("4000000000000127", "US", _Behaviour.DECLINE_INCORRECT_CVC),
        _TestCard("4000002500003155", "US", _Behaviour.REQUIRE_AUTHENTICATION),
        _TestCard("4000002760003184", "DE", _Behaviour.REQUIRE_AUTHENTICATION),
        _TestCard("4000000000000341", "US", _Behaviour.DECLINE_AFTER_SAVE),
        _TestCard("4000000000000259", "US", _Behaviour.DISPUTE),
        _TestCard("4100000000000019", "US", _Behaviour.DECLINE_FRAUDULENT, RiskTest.ALWAYS_BLOCK),
        _TestCard("4000000000009235", "US", _Behaviour.SUCCEED, RiskTest.ELEVATED_RISK),
        _TestCard("5555555555554444", "US", _Behaviour.SUCCEED),
        _TestCard("2223003122003222", "US", _Behaviour.SUCCEED),
        _TestCard("5200828282828210", "US", _Behaviour.SUCCEED),
        _TestCard("378282246310005", "US", _Behaviour.SUCCEED),
        _TestCard("371449635398431", "US", _Behaviour.SUCCEED),
        _TestCard("6011111111111117", "US", _Behaviour.SUCCEED),
        _TestCard("3056930009020004", "US", _Behaviour.SUCCEED),
        _TestCard("3566002020360505", "JP", _Behaviour.SUCCEED),
        _TestCard("6200000000000005", "CN", _Behaviour.SUCCEED),
    )
}

# Stripe's test PaymentMethod ids, each standing for one of the numbers above.
_TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_bypassPending": "4000000000000077",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_radarBlock": "4100000000000019",
    "pm_card_chargeDeclinedFraudulent": "4100000000000019",
    "pm_card_riskLevelElevated": "4000000000009235",
}

TEST_CARD_NUMBERS: tuple[str, ...] = tuple(_CARDS)
TEST_TOKENS: tuple[str, ...] = tuple(_TOKENS)

# Saved cards: "sbx_pm_<digest>_<random>", the digest naming the public test number.
SAVED_CARD_PREFIX = "sbx_pm_"
CUSTOMER_ID_PREFIX = "sbx_cus_"
_SAVED_CARD_ID = re.compile(r"sbx_pm_([0-9a-f]{16})_[0-9A-Za-z]{8,64}")
_CUSTOMER_ID = re.compile(r"sbx_cus_[0-9A-Za-z]{8,64}")


def _digest(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()[:16]


_SAVED: dict[str, _TestCard] = {_digest(number): card for number, card in _CARDS.items()}


def _saved_card(token: str) -> _TestCard | None:
    match = _SAVED_CARD_ID.fullmatch(token)
    return _SAVED.get(match.group(1)) if match else None


# "pm_apple_pay_visa": the wallet, then the card of "pm_card_visa".
_WALLET_TOKEN = re.compile(rf"pm_({'|'.join(cards.WALLETS)})_([A-Za-z0-9_]+)")


def wallet_token(wallet: str, card: str = "visa") -> str:
    """The sandbox token of a test card in a wallet ("pm_apple_pay_visa"); ValueError for a
    wallet or card the sandbox does not know."""
    token = f"pm_{wallet}_{card}"
    if wallet not in cards.WALLETS or wallet_of(token) is None:
        raise ValueError("not a sandbox wallet")
    return token


def wallet_of(token: object) -> str | None:
    """The wallet of a sandbox wallet token whose card is a test card; None otherwise."""
    match = _WALLET_TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    if match is None or f"pm_card_{match.group(2)}" not in _TOKENS:
        return None
    return match.group(1)


def _find_card(token: object) -> _TestCard | None:
    if not isinstance(token, str):
        return None
    token = token.strip()
    wallet = _WALLET_TOKEN.fullmatch(token)
    if wallet is not None:
        token = f"pm_card_{wallet.group(2)}"
    if token in _TOKENS:
        return _CARDS[_TOKENS[token]]
    if token.startswith(SAVED_CARD_PREFIX):
        return _saved_card(token)
    try:
        number = cards.normalise_number(token)
    except ValueError:
        return None
    return _CARDS.get(number)


# A test card's details, by card, expiry year and the secret its fingerprint is keyed with:
# a charge asks twice (before risk scoring and in the answer), each time an HMAC.
_DETAILS: dict[tuple[_TestCard, int, str, str | None], CardDetails] = {}


def _details(card: _TestCard, wallet: str | None = None) -> CardDetails:
    exp_year = datetime.now(UTC).year + EXPIRY_YEARS_AHEAD
    key = (card, exp_year, get_settings().secret_key, wallet)
    found = _DETAILS.get(key)
    if found is None:
        # A new year or secret: the old ones are unused (each card may come in every wallet).
        if len(_DETAILS) > 4 * len(_CARDS) * (1 + len(cards.WALLETS)):
            _DETAILS.clear()
        found = _DETAILS[key] = CardDetails(
            brand=cards.detect_brand(card.number),
            last4=card.number[-4:],
            exp_month=EXPIRY_MONTH,
            exp_year=exp_year,
            fingerprint=cards.fingerprint(card.number),
            country=card.country,
            risk_test=card.risk_test,
            wallet=wallet,
        )
    return found


def _check_amount(amount: object, currency: object) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(
            "The amount must be a positive whole number of the currency's minor unit",
            code="amount_invalid",
            param="amount",
        )
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed(
            "The currency must be a three-letter ISO 4217 code",
            code="currency_invalid",
            param="currency",
        )


def _new_id(prefix: str) -> str:
    return prefix + random_token(_ID_RANDOM_LENGTH)


def _test_card(token: object) -> _TestCard:
    card = _find_card(token)
    if card is None:
        # Never repeat the token: it may be a real card number.
        raise ValidationFailed(
            NOT_A_TEST_CARD_MESSAGE, code="not_a_test_card", param="paymentMethod.token"
        )
    return card


# The behaviours whose cards a customer can save (the others' issuers refuse the set-up).
_SAVES = frozenset(
    {
        _Behaviour.SUCCEED,
        _Behaviour.DISPUTE,
        _Behaviour.REQUIRE_AUTHENTICATION,
        _Behaviour.DECLINE_AFTER_SAVE,
    }
)


def _decline_code(behaviour: _Behaviour) -> str:
    return "card_declined" if behaviour is _Behaviour.DECLINE_AFTER_SAVE else behaviour.value


class SandboxGateway:
    """The test processor. Offline and stateless; see the module docstring for the cards."""

    name = "sandbox"

    def __init__(self, *, latency_s: float = 0.0, unavailable: bool = False):
        if latency_s < 0:
            raise ValueError("latency_s must not be negative")
        self.latency_s = latency_s
        self.unavailable = unavailable

    def __repr__(self) -> str:
        return f"SandboxGateway(latency_s={self.latency_s!r}, unavailable={self.unavailable!r})"

    # -- the processor's side of every call ------------------------------------------------

    def _reach_processor(self) -> None:
        if self.latency_s:
            time.sleep(self.latency_s)
        if self.unavailable:
            raise GatewayUnavailable("The sandbox processor is unavailable (simulated)")

    def _check_payment_id(self, gateway_payment_id: object) -> str:
        if not isinstance(gateway_payment_id, str) or not _SANDBOX_ID.fullmatch(gateway_payment_id):
            raise GatewayUnavailable(
                "No such sandbox payment: the id was not issued by the sandbox",
                code="resource_missing",
            )
        return gateway_payment_id

    # -- Gateway protocol ------------------------------------------------------------------

    def card_details(self, token: str) -> CardDetails | None:
        """Brand, last4, expiry, fingerprint and country of a test card; None otherwise."""
        card = _find_card(token)
        return _details(card, wallet_of(token)) if card else None

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        if request.payment_method_type == "bank":
            _check_amount(request.amount, request.currency)
            sandbox_bank.test_account(request.payment_method_token)
            self._reach_processor()
            return sandbox_bank.create_debit(request, datetime.now(UTC))
        if request.payment_method_type != "card":
            raise ValidationFailed(
                "The sandbox takes card and bank payments only",
                code="payment_method_unsupported",
                param="paymentMethod.type",
            )
        _check_amount(request.amount, request.currency)
        card = _test_card(request.payment_method_token)
        if request.payment_method_token.startswith(SAVED_CARD_PREFIX) and not (
            request.gateway_customer_id and _CUSTOMER_ID.fullmatch(request.gateway_customer_id)
        ):
            raise ValidationFailed(
                "A saved card is charged for its customer: give the sandbox customer's id",
                code="invalid_payment_method",
                param="paymentMethod.token",
            )
        self._reach_processor()

        details = _details(card, wallet_of(request.payment_method_token))
        payment_id = _new_id(PAYMENT_ID_PREFIX)
        approved = Outcome.SUCCEEDED if request.capture else Outcome.AUTHORIZED
        behaviour = card.behaviour
        saved = self._saved_while_paying(request, card)
        if behaviour is _Behaviour.SUCCEED:
            return PaymentResult(approved, payment_id, card=details, saved_payment_method_id=saved)
        if behaviour is _Behaviour.DISPUTE:
            return PaymentResult(
                approved,
                payment_id,
                card=details,
                dispute_expected=True,
                saved_payment_method_id=saved,
            )
        if behaviour is _Behaviour.REQUIRE_AUTHENTICATION:
            return PaymentResult(
                Outcome.REQUIRES_ACTION,
                payment_id,
                card=details,
                decline_code="authentication_required" if request.off_session else None,
                message=REQUIRES_ACTION_MESSAGE,
            )
        code = _decline_code(behaviour)
        return PaymentResult(
            Outcome.DECLINED,
            payment_id,
            card=details,
            decline_code=code,
            message=DECLINE_MESSAGES[code],
        )

    @staticmethod
    def _saved_while_paying(request: PaymentRequest, card: _TestCard) -> str | None:
        """setup_future_usage: the card saved for the customer, as save_card saves it (a
        saved card is not saved again)."""
        if not request.setup_future_usage or request.payment_method_token.startswith(
            SAVED_CARD_PREFIX
        ):
            return None
        customer = request.gateway_customer_id
        if not (customer and _CUSTOMER_ID.fullmatch(customer)):
            raise ValidationFailed(
                "A card is saved for a customer: give the sandbox customer's id",
                code="invalid_payment_method",
                param="paymentMethod.token",
            )
        if card.behaviour not in _SAVES:
            return None
        return f"{SAVED_CARD_PREFIX}{_digest(card.number)}_{random_token(16)}"

    def create_customer(
        self, *, email: str | None, name: str | None, reference: str, idempotency_key: str
    ) -> str:
        """A new sandbox customer id (the sandbox keeps nothing under it)."""
        self._reach_processor()
        return _new_id(CUSTOMER_ID_PREFIX)

    def save_card(
        self, gateway_customer_id: str, token: str, *, idempotency_key: str
    ) -> SetupResult:
        """A test card saved for the customer, or refused as Stripe's SetupIntents refuse it
        (the module docstring)."""
        if not isinstance(gateway_customer_id, str) or not _CUSTOMER_ID.fullmatch(
            gateway_customer_id
        ):
            raise GatewayUnavailable(
                "No such sandbox customer: the id was not issued by the sandbox",
                code="resource_missing",
            )
        if isinstance(token, str) and token.strip().startswith(SAVED_CARD_PREFIX):
            raise ValidationFailed(
                "This card is already saved: give a test card number or a pm_card_ token",
                code="invalid_payment_method",
                param="paymentMethod.token",
            )
        card = _test_card(token)
        self._reach_processor()
        details = _details(card)
        behaviour = card.behaviour
        if behaviour in _SAVES:
            method_id = f"{SAVED_CARD_PREFIX}{_digest(card.number)}_{random_token(16)}"
            authenticate = behaviour is _Behaviour.REQUIRE_AUTHENTICATION
            return SetupResult(method_id, details, authentication_required=authenticate)
        code = _decline_code(behaviour)
        return SetupResult(None, details, decline_code=code, message=DECLINE_MESSAGES[code])

    def detach_card(self, gateway_payment_method_id: str, *, idempotency_key: str) -> None:
        if (
            not isinstance(gateway_payment_method_id, str)
            or _saved_card(gateway_payment_method_id) is None
        ):
            raise GatewayUnavailable(
                "No such sandbox card: the id was not issued by the sandbox",
                code="resource_missing",
            )
        self._reach_processor()

    def capture(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> PaymentResult:
        _check_amount(amount, currency)
        payment_id = self._check_payment_id(gateway_payment_id)
        self._reach_processor()
        return PaymentResult(Outcome.SUCCEEDED, payment_id)

    def void(self, gateway_payment_id: str, *, idempotency_key: str) -> None:
        self._check_payment_id(gateway_payment_id)
        self._reach_processor()

    def refund(
        self, gateway_payment_id: str, amount: int, currency: str, *, idempotency_key: str
    ) -> RefundResult:
        _check_amount(amount, currency)
        self._check_payment_id(gateway_payment_id)
        self._reach_processor()
        return RefundResult(_new_id(REFUND_ID_PREFIX), RefundState.SUCCEEDED)

    def retrieve(self, gateway_payment_id: str) -> PaymentResult:
        """The sandbox keeps no payments: a card's answer is decided when it is made; a bank
        debit's by its test account and the time since it was made (sandbox_bank)."""
        self._check_payment_id(gateway_payment_id)
        if sandbox_bank.is_debit(gateway_payment_id):
            self._reach_processor()
            settle = get_settings().sandbox_bank_settle_seconds
            return sandbox_bank.outcome_of(gateway_payment_id, datetime.now(UTC), settle)
        raise GatewayUnavailable(
            "The sandbox keeps no payments to look up", code="resource_missing"
        )

    def complete_action(
        self, gateway_payment_id: str, approved: bool | None, *, capture: bool
    ) -> PaymentResult:
        """The customer's answer to the 3-D Secure challenge of a REQUIRES_ACTION payment.

        Approved: SUCCEEDED (capture) or AUTHORIZED. Refused: DECLINED, authentication_failed.
        The card details were returned with the REQUIRES_ACTION result; none are repeated here.
        """
        if approved is None:
            raise ValidationFailed("This payment cannot be confirmed here", param="approved")
        payment_id = self._check_payment_id(gateway_payment_id)
        self._reach_processor()
        if approved:
            return PaymentResult(Outcome.SUCCEEDED if capture else Outcome.AUTHORIZED, payment_id)
        return PaymentResult(
            Outcome.DECLINED,
            payment_id,
            decline_code="authentication_failed",
            message=DECLINE_MESSAGES["authentication_failed"],
        )

    def client_secret(self, gateway_payment_id: str) -> str | None:
        return None  # the sandbox's challenge is our own page: no processor script to run

    def action_url(self, gateway_payment_id: str) -> str | None:
        return None  # the challenge is the checkout's own page

    def submit_dispute(
        self, gateway_dispute_id: str, evidence: DisputeEvidence, files: list[EvidenceFile]
    ) -> DisputeState:
        """Won, lost or under review by the words in the evidence (the module docstring)."""
        dispute_id = self._check_dispute_id(gateway_dispute_id)
        self._reach_processor()
        text = " ".join(v for v in astuple(evidence) if isinstance(v, str))
        if WINNING_EVIDENCE in text:
            return DisputeState(dispute_id, DisputeStage.WON)
        if LOSING_EVIDENCE in text:
            return DisputeState(dispute_id, DisputeStage.LOST)
        return DisputeState(dispute_id, DisputeStage.UNDER_REVIEW)

    def accept_dispute(self, gateway_dispute_id: str) -> DisputeState:
        dispute_id = self._check_dispute_id(gateway_dispute_id)
        self._reach_processor()
        return DisputeState(dispute_id, DisputeStage.LOST)

    def list_payouts(
        self, created_after: datetime | None = None, limit: int = 100
    ) -> list[ProcessorPayout]:
        self._reach_processor()
        return []  # no processor-side balance: nothing is ever paid out

    def list_balance_transactions(
        self,
        payout_id: str | None = None,
        created_after: datetime | None = None,
        limit: int = 1000,
    ) -> list[ProcessorBalanceTransaction]:
        self._reach_processor()
        return []

    def _check_dispute_id(self, gateway_dispute_id: object) -> str:
        if not isinstance(gateway_dispute_id, str) or not _SANDBOX_ID.fullmatch(gateway_dispute_id):
            raise GatewayUnavailable(
                "No such sandbox dispute: the id was not issued by the sandbox",
                code="resource_missing",
            )
        return gateway_dispute_id
