"""The sandbox's bank debits (ACH): Stripe's test bank accounts, offline and stateless.

A debit is `processing` for SANDBOX_BANK_SETTLE_SECONDS, then ends as its test account says,
as Stripe's test accounts (routing number 110000000) do:

    account number   outcome
    000123456789     succeeds
    000111111113     fails: R02, account closed
    000111111116     fails: R03, no account
    000222222227     fails: R01, insufficient funds
    000333333335     fails: R10, customer says the debit was not authorised
    000999999996     succeeds, then is returned (R01, insufficient funds) as long again later:
                     the sandbox's own, since Stripe's test mode has no return after success

The tokens are what Plaid's processor-token step gives (the Plaid twin's
`btok_sandbox_<account number>_<nonce>`), the bare account number, or Stripe's test token
`btok_us_verified` (succeeds). The debit's id names its account's outcome and when it was made
("sbx_ach_<outcome>_<unix seconds>_<random>"), so `retrieve` answers from the id alone in any
process, as the card sandbox does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.core.errors import ValidationFailed
from backend.core.security import random_token
from backend.gateways.base import (
    BankAccountDetails,
    GatewayUnavailable,
    Outcome,
    PaymentRequest,
    PaymentResult,
)

TEST_ROUTING_NUMBER = "110000000"
TEST_BANK_NAME = "STRIPE TEST BANK"
ID_PREFIX = "sbx_ach_"
SUCCEEDS = "ok"
RETURNED_LATER = "okR01"


@dataclass(frozen=True)
class TestAccount:
    __test__ = False  # not a pytest test class, whatever its name

    number: str
    outcome: str  # "ok", an ACH return code, or "okR01": succeeds, then returned R01
    description: str  # what happens, for the twin's bank picker and the README


TEST_ACCOUNTS = (
    TestAccount("000123456789", SUCCEEDS, "succeeds"),
    TestAccount("000222222227", "R01", "fails: insufficient funds (R01)"),
    TestAccount("000111111113", "R02", "fails: account closed (R02)"),
    TestAccount("000111111116", "R03", "fails: no account (R03)"),
    TestAccount("000333333335", "R10", "fails: debit not authorised (R10)"),
    TestAccount("000999999996", RETURNED_LATER, "succeeds, then is returned (R01)"),
)
_BY_NUMBER = {a.number: a for a in TEST_ACCOUNTS}
_STRIPE_TEST_TOKENS = {"btok_us_verified": "000123456789"}
_TWIN_TOKEN = re.compile(r"btok_sandbox_(\d{12})_[0-9a-f]{8,32}")
_DEBIT_ID = re.compile(r"sbx_ach_(ok|okR01|R\d\d)_(\d{1,12})_[0-9A-Za-z]{8,40}")

NOT_A_TEST_ACCOUNT_MESSAGE = (
    "The sandbox debits only test bank accounts: link a bank through the test bank picker, or "
    "use account 000123456789 (routing number 110000000)."
)


def twin_token(account_number: str, nonce: str) -> str:
    """The token the Plaid twin's processor-token step hands over for a test account."""
    return f"btok_sandbox_{account_number}_{nonce}"


def test_account(token: object) -> TestAccount:
    """The test account a bank token stands for; ValidationFailed for anything else (never
    repeating the token: it may be a real account number)."""
    if isinstance(token, str):
        number = _STRIPE_TEST_TOKENS.get(token)
        match = _TWIN_TOKEN.fullmatch(token)
        number = number or (match.group(1) if match else token.strip())
        account = _BY_NUMBER.get(number)
        if account is not None:
            return account
    raise ValidationFailed(
        NOT_A_TEST_ACCOUNT_MESSAGE, code="not_a_test_account", param="paymentMethod.token"
    )


def create_debit(request: PaymentRequest, now: datetime) -> PaymentResult:
    """A new debit, processing: the bank answers later (`outcome_of`)."""
    if request.currency != "USD":
        raise ValidationFailed(
            "Bank debits are in US dollars only", code="currency_unsupported", param="currency"
        )
    if not request.capture:
        raise ValidationFailed(
            "A bank debit cannot be authorized to capture later: charge it",
            code="capture_unsupported",
            param="capture",
        )
    if request.mandate is None:
        raise ValidationFailed(
            "A bank debit needs the customer's mandate", code="mandate_required", param="mandate"
        )
    account = test_account(request.payment_method_token)
    stamp = int(now.timestamp())
    debit_id = f"{ID_PREFIX}{account.outcome}_{stamp}_{random_token(20)}"
    return PaymentResult(
        Outcome.PROCESSING,
        debit_id,
        bank=BankAccountDetails(TEST_BANK_NAME, account.number[-4:], "checking"),
        gateway_mandate_id=f"sbx_mandate_{random_token(20)}",
    )


def is_debit(gateway_payment_id: object) -> bool:
    return isinstance(gateway_payment_id, str) and gateway_payment_id.startswith(ID_PREFIX)


def outcome_of(gateway_payment_id: str, now: datetime, settle_seconds: float) -> PaymentResult:
    """Where the debit stands `now`: processing until it settles, then its account's outcome
    (a later return once as long again has passed)."""
    match = _DEBIT_ID.fullmatch(gateway_payment_id)
    if match is None:
        raise GatewayUnavailable("No such sandbox bank debit", code="resource_missing")
    outcome, made = match.group(1), datetime.fromtimestamp(int(match.group(2)), UTC)
    elapsed = (now - made).total_seconds()
    if elapsed < settle_seconds:
        return PaymentResult(Outcome.PROCESSING, gateway_payment_id)
    if outcome == SUCCEEDS or (outcome == RETURNED_LATER and elapsed < 2 * settle_seconds):
        return PaymentResult(Outcome.SUCCEEDED, gateway_payment_id)
    code = "R01" if outcome == RETURNED_LATER else outcome
    return PaymentResult(Outcome.DECLINED, gateway_payment_id, decline_code=code)
