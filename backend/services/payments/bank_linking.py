"""The customer's bank account for a bank debit, linked through Plaid Link or its offline twin.

Plaid (keys set): the browser's Link hands a public token and the chosen account's id; we
exchange the token, read the account (its name and mask, checking or savings) and ask Plaid
for its Stripe bank account token (btok_...), which the Stripe gateway attaches to a Stripe
customer and debits. No account number passes through us.

The twin (no Plaid keys): the checkout page's own bank picker offers Plaid's sandbox banks, each
with Stripe's test bank accounts (backend.gateways.sandbox_bank); choosing one gives a sandbox
public token and account id, and linking them gives the sandbox gateway's bank token for that
test account. Either way the caller gets the token to charge and the account in words.
"""

from __future__ import annotations

import re
import secrets

from backend.core.errors import ValidationFailed
from backend.gateways import sandbox_bank
from backend.integrations import bank_link
from backend.services.payments.bank_debits import LinkedBank

_TWIN_ACCOUNT = re.compile(r"(ins_\d{1,12})-ach-(\d{12})")
_RELINK = "Choose your bank account again."


def provider() -> str:
    return bank_link.provider()


def twin_banks() -> list[tuple[str, str]]:
    """The twin picker's banks: (institution id, name)."""
    return [(bank.institution_id, bank.name) for bank in bank_link.SANDBOX_BANKS]


def twin_accounts() -> list[tuple[str, str, str]]:
    """The twin picker's accounts at every bank: (account number, last four, what happens)."""
    return [(a.number, a.number[-4:], a.description) for a in sandbox_bank.TEST_ACCOUNTS]


def twin_link(institution_id: str, account_number: str) -> tuple[str, str]:
    """What Plaid Link hands the browser after the customer picks a twin bank and account:
    a public token and the account's id."""
    if account_number not in {a.number for a in sandbox_bank.TEST_ACCOUNTS}:
        raise ValidationFailed("Choose one of the test bank accounts", param="account")
    public_token = bank_link.sandbox_public_token(institution_id)
    return public_token, f"{institution_id}-ach-{account_number}"


def link(public_token: str, account_id: str) -> tuple[str, LinkedBank]:
    """The token to debit the chosen account with, and the account in words."""
    if not isinstance(public_token, str) or not isinstance(account_id, str) or not account_id:
        raise ValidationFailed(_RELINK, param="account")
    if bank_link.provider() == "plaid":
        item = bank_link.exchange(public_token)
        account = next((a for a in item.accounts if a.account_id == account_id), None)
        if account is None:
            raise ValidationFailed(_RELINK, param="account")
        token = bank_link.stripe_bank_account_token(item.access_token, account_id)
        return token, LinkedBank(item.institution_name, account.mask, account.subtype)
    item = bank_link.sandbox_item(public_token)
    match = _TWIN_ACCOUNT.fullmatch(account_id)
    # The account must be at the bank the token was made for.
    if match is None or not item.access_token.startswith(f"access-sandbox-{match.group(1)}-"):
        raise ValidationFailed(_RELINK, param="account")
    number = match.group(2)
    token = sandbox_bank.twin_token(number, secrets.token_hex(8))
    sandbox_bank.test_account(token)  # a test account of the twin, or refused
    return token, LinkedBank(item.institution_name, number[-4:], "checking")
