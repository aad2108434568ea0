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

import json
import re
import secrets

from backend.core.errors import ValidationFailed
from backend.gateways import sandbox_bank
from backend.integrations import bank_link
from backend.services.payments.bank_debits import LinkedBank

PLAID_LINK_SCRIPT = "https://cdn.plaid.com/link/v2/stable/link-initialize.js"

# Loads Plaid Link when needed, opens it with the link token, and resolves (Reflex awaits the
# promise) with the public token and the chosen account, or with why nothing was chosen.
_OPEN_LINK = """(async () => {
  if (!window.Plaid) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = %(script)s;
      script.onload = resolve;
      script.onerror = () => reject(new Error("Plaid Link did not load"));
      document.head.appendChild(script);
    });
  }
  return await new Promise((resolve) => {
    const handler = window.Plaid.create({
      token: %(token)s,
      onSuccess: (publicToken, metadata) => {
        handler.destroy();
        const chosen = (metadata.accounts || [])[0] || {};
        resolve({public_token: publicToken, account_id: chosen.id || ""});
      },
      onExit: (error) => {
        handler.destroy();
        resolve({error: error ? (error.display_message || error.error_message || "") : ""});
      },
    });
    handler.open();
  });
})().catch((error) => ({error: "Plaid could not be opened: " + error.message}))"""


def open_link_with(link_token: str) -> str:
    """The browser's script that opens Plaid Link with a link token (the portal's payout
    account, the checkout's bank payment)."""
    return _OPEN_LINK % {"script": json.dumps(PLAID_LINK_SCRIPT), "token": json.dumps(link_token)}


def open_link_script(client_user_id: str) -> str:
    """Plaid Link opened for a new link token of this person."""
    return open_link_with(bank_link.link_token(client_user_id=client_user_id))


_TWIN_ACCOUNT = re.compile(r"(ins_\d{1,12})-ach-(\d{12})")
_RELINK = "Choose your bank account again."


def provider() -> str:
    return bank_link.provider()


def twin_banks() -> list[tuple[str, str]]:
    """The twin picker's banks: (institution id, name)."""
    return [(bank.institution_id, bank.name) for bank in bank_link.SANDBOX_BANKS]


def twin_accounts() -> list[tuple[str, str, str]]:
    """The twin picker's accounts at every bank: (account number, last four, its outcome's
    code: "ok", an ACH return code, or "okR01" for succeeds-then-returned)."""
    return [(a.number, a.number[-4:], a.outcome) for a in sandbox_bank.TEST_ACCOUNTS]


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
