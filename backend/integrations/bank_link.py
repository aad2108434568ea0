"""Bank accounts verified through Plaid when configured, a sandbox twin otherwise.

Plaid (PLAID_CLIENT_ID and PLAID_SECRET set): the portal opens Plaid Link with a link token
(/link/token/create, product auth, checking and savings accounts only). The person signs in to
their bank inside Link, which hands the browser a one-time public token and the account they
chose. The server exchanges the token for an access token (/item/public_token/exchange) and
reads that account's ACH numbers (/auth/get): Plaid has verified them by signing in to the bank
("instant auth"), so no micro-deposits are needed. PLAID_HOST points the real SDK at another
host (the local fake in the tests); PLAID_ENV picks Plaid's sandbox or production.

The sandbox twin runs offline without keys. It offers Plaid's own sandbox banks with their
published test accounts, and makes public and access tokens of the same shape, so the service
above handles both alike.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

import plaid
import urllib3
from plaid.api import plaid_api
from plaid.model.auth_get_request import AuthGetRequest
from plaid.model.auth_get_request_options import AuthGetRequestOptions
from plaid.model.country_code import CountryCode
from plaid.model.depository_account_subtype import DepositoryAccountSubtype
from plaid.model.depository_account_subtypes import DepositoryAccountSubtypes
from plaid.model.depository_filter import DepositoryFilter
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.link_token_account_filters import LinkTokenAccountFilters
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.processor_stripe_bank_account_token_create_request import (
    ProcessorStripeBankAccountTokenCreateRequest,
)
from plaid.model.products import Products

from backend.core.config import get_settings
from backend.core.errors import ServiceError, ValidationFailed

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0
PAYOUT_SUBTYPES = ("checking", "savings")
CLIENT_NAME = "PayPortal"
_HOSTS = {"sandbox": plaid.Environment.Sandbox, "production": plaid.Environment.Production}
# Plaid's errors that mean "the token or item is no good", not "Plaid is down".
_BAD_TOKEN = {"INVALID_PUBLIC_TOKEN", "INVALID_ACCESS_TOKEN", "ITEM_NOT_FOUND", "INVALID_INPUT"}
_SANDBOX_TOKEN = re.compile(r"(public|access)-sandbox-(ins_\d{1,12})-([0-9a-f]{32})")


class BankUnavailable(ServiceError):
    status = 503
    code = "bank_unavailable"


@dataclass(frozen=True)
class LinkedAccount:
    account_id: str
    name: str
    mask: str
    subtype: str  # checking or savings
    account_number: str
    routing_number: str


@dataclass(frozen=True)
class LinkedItem:
    provider: str  # "plaid" or "sandbox"
    item_id: str
    access_token: str
    institution_name: str
    accounts: list[LinkedAccount]  # only accounts that can take payouts (checking, savings)


@dataclass(frozen=True)
class SandboxBank:
    institution_id: str
    name: str


# Plaid's sandbox institutions, and the test accounts Plaid's sandbox gives every one of them.
SANDBOX_BANKS = (
    SandboxBank("ins_109508", "First Platypus Bank"),
    SandboxBank("ins_109509", "First Gingham Credit Union"),
    SandboxBank("ins_109510", "Tattersall Federal Credit Union"),
)
_SANDBOX_ACCOUNTS = (
    ("Plaid Checking", "0000", "checking", "1111222233330000"),
    ("Plaid Saving", "1111", "savings", "1111222233331111"),
)
SANDBOX_ROUTING = "011401533"


def provider() -> str:
    return "plaid" if get_settings().plaid_enabled else "sandbox"


# Plaid


def link_token(*, client_user_id: str) -> str:
    """A Link token for this person: Link then offers checking and savings accounts only."""
    subtypes = DepositoryAccountSubtypes([DepositoryAccountSubtype(s) for s in PAYOUT_SUBTYPES])
    request = LinkTokenCreateRequest(
        client_name=CLIENT_NAME,
        language="en",
        country_codes=[CountryCode("US")],
        user=LinkTokenCreateRequestUser(client_user_id=client_user_id),
        products=[Products("auth")],
        account_filters=LinkTokenAccountFilters(
            depository=DepositoryFilter(account_subtypes=subtypes)
        ),
    )
    response = _call(lambda api: api.link_token_create(request, _request_timeout=TIMEOUT_SECONDS))
    return str(response.link_token)


def exchange(public_token: str) -> LinkedItem:
    """The item behind a one-time public token, with its payout-capable accounts."""
    if provider() == "sandbox":
        return sandbox_item(public_token)
    exchanged = _call(
        lambda api: api.item_public_token_exchange(
            ItemPublicTokenExchangeRequest(public_token=public_token),
            _request_timeout=TIMEOUT_SECONDS,
        )
    )
    access_token = str(exchanged.access_token)
    auth = _call(
        lambda api: api.auth_get(
            AuthGetRequest(access_token=access_token, options=AuthGetRequestOptions()),
            _request_timeout=TIMEOUT_SECONDS,
        )
    )
    numbers = {ach.account_id: ach for ach in auth.numbers.ach}
    accounts = [
        LinkedAccount(
            account_id=str(a.account_id),
            name=str(a.name),
            mask=str(a.mask or numbers[a.account_id].account[-4:]),
            subtype=str(a.subtype),
            account_number=str(numbers[a.account_id].account),
            routing_number=str(numbers[a.account_id].routing),
        )
        for a in auth.accounts
        if str(a.type) == "depository"
        and str(a.subtype) in PAYOUT_SUBTYPES
        and a.account_id in numbers
    ]
    return LinkedItem(
        provider="plaid",
        item_id=str(exchanged.item_id),
        access_token=access_token,
        institution_name=str(auth.item.get("institution_name") or "Your bank"),
        accounts=accounts,
    )


def stripe_bank_account_token(access_token: str, account_id: str) -> str:
    """Plaid's one-time Stripe bank account token (btok_...) for one account of an item: Stripe
    turns it into a verified bank account to debit (ACH), no account number passing through us.
    """
    response = _call(
        lambda api: api.processor_stripe_bank_account_token_create(
            ProcessorStripeBankAccountTokenCreateRequest(
                access_token=access_token, account_id=account_id
            ),
            _request_timeout=TIMEOUT_SECONDS,
        )
    )
    return str(response.stripe_bank_account_token)


def remove(provider_name: str, access_token: str) -> None:
    """Give up our access to the item at Plaid (nothing to do for the sandbox twin)."""
    if provider_name != "plaid":
        return
    try:
        _call(
            lambda api: api.item_remove(
                ItemRemoveRequest(access_token=access_token), _request_timeout=TIMEOUT_SECONDS
            )
        )
    except ValidationFailed:
        return  # Plaid no longer knows the item: it is gone either way


def _call(request):  # type: ignore[no-untyped-def]
    settings = get_settings()
    api = _api(
        settings.plaid_client_id or "",
        settings.plaid_secret or "",
        settings.plaid_host or _HOSTS.get(settings.plaid_env, plaid.Environment.Sandbox),
    )
    try:
        return request(api)
    except plaid.ApiException as exc:
        raise _translated(exc) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        log.warning("Plaid unreachable: %s", exc)
        raise BankUnavailable("We could not reach Plaid right now. Try again.") from exc


def _translated(exc: plaid.ApiException) -> ServiceError:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    code = str(body.get("error_code") or "")
    log.warning("Plaid answered %s (%s): %s", exc.status, code, body.get("error_message"))
    if code in _BAD_TOKEN:
        return ValidationFailed(
            "The bank connection expired or was already used. Connect the bank again.",
            param="public_token",
        )
    return BankUnavailable(
        str(body.get("display_message") or "Plaid could not verify the account. Try again.")
    )


@lru_cache
def _api(client_id: str, secret: str, host: str) -> plaid_api.PlaidApi:
    configuration = plaid.Configuration(
        host=host, api_key={"clientId": client_id, "secret": secret, "plaidVersion": "2020-09-14"}
    )
    return plaid_api.PlaidApi(plaid.ApiClient(configuration))


# The sandbox twin


def sandbox_public_token(institution_id: str) -> str:
    """What Link would hand the browser after signing in to one of the sandbox banks."""
    if institution_id not in {b.institution_id for b in SANDBOX_BANKS}:
        raise ValidationFailed("Choose one of the sandbox banks", param="institution")
    return f"public-sandbox-{institution_id}-{secrets.token_hex(16)}"


def sandbox_account_id(institution_id: str, subtype: str) -> str:
    return f"{institution_id}-{subtype}"


def sandbox_accounts(institution_id: str) -> list[LinkedAccount]:
    return [
        LinkedAccount(
            account_id=sandbox_account_id(institution_id, subtype),
            name=name,
            mask=mask,
            subtype=subtype,
            account_number=number,
            routing_number=SANDBOX_ROUTING,
        )
        for name, mask, subtype, number in _SANDBOX_ACCOUNTS
    ]


def sandbox_item(public_token: str) -> LinkedItem:
    """The twin's item behind a public token it made (ValidationFailed for any other)."""
    match = _SANDBOX_TOKEN.fullmatch(public_token or "")
    names = {b.institution_id: b.name for b in SANDBOX_BANKS}
    if match is None or match.group(1) != "public" or match.group(2) not in names:
        raise ValidationFailed(
            "The bank connection expired or was already used. Connect the bank again.",
            param="public_token",
        )
    institution_id, nonce = match.group(2), match.group(3)
    return LinkedItem(
        provider="sandbox",
        item_id=f"item-sandbox-{nonce}",
        access_token=f"access-sandbox-{institution_id}-{nonce}",
        institution_name=names[institution_id],
        accounts=sandbox_accounts(institution_id),
    )
