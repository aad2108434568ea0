"""A local fake of Plaid's API that the real plaid-python SDK talks to over HTTP.

    with FakePlaid() as fake:
        configuration = plaid.Configuration(host=fake.url, api_key={...})

It answers what bank verification needs: /link/token/create, /sandbox/public_token/create
(what Link hands the browser, made the way Plaid's sandbox makes it), /item/public_token/exchange
(a public token works once), /auth/get and /item/remove. Every request must carry the client id
and secret headers (400 INVALID_API_KEYS otherwise); errors have Plaid's JSON shape. Each item
has a checking, a savings and a credit card account; only the first two have ACH numbers.
`fail_next(n, status, path=None)` answers the next n requests (to that path) with that status.

Stripe's processor step, for bank debits: /processor/stripe/bank_account_token/create gives a
one-use `btok_...` for a checking or savings account of an item (a credit card account, or an
account of another item, is refused as Plaid refuses it); each token made is kept in
`stripe_tokens` (token -> account id), so a test can hand it to the fake Stripe.

Plaid Transfer, for payouts: /transfer/authorization/create, /transfer/create, /transfer/get,
/transfer/cancel, /transfer/event/sync and /sandbox/transfer/simulate, with every field the
SDK's response models require. `linked_account()` gives an access token and account id to pay.
- An authorization is approved unless `decline_next(code)` was called (declined with that
  rationale code; ITEM_LOGIN_REQUIRED and its kin give "user_action_required", as Plaid does) or
  a credit is larger than `ledger_available` (declined NSF, as Plaid does when its Ledger balance
  cannot fund a credit). No amount is otherwise special.
- A credit card account is refused (TRANSFER_UNSUPPORTED_ACCOUNT_TYPE), an unknown access token
  too (INVALID_ACCESS_TOKEN).
- Idempotency as Plaid documents it: the same key on /transfer/authorization/create returns the
  same authorization (and decision), on /transfer/create the same transfer.
- Transfers stay pending until /sandbox/transfer/simulate moves them along Plaid's sandbox moves
  (pending to posted or failed, posted to settled or returned, settled to funds_available for
  debits only); a failure_reason such as {"ach_return_code": "R01"} is kept on the transfer and
  its event. /transfer/cancel works while pending (TRANSFER_NOT_CANCELLABLE after). Every creation
  and move is an event with the next event_id, which /transfer/event/sync pages through.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import LocalServer

INSTITUTIONS = {"ins_109508": "First Platypus Bank", "ins_109509": "First Gingham Credit Union"}
ROUTING = "011401533"
_AMOUNT = re.compile(r"\d{1,10}\.\d{2}")
# /sandbox/transfer/simulate's moves: {status: {event_type: new status}}.
_MOVES = {
    "pending": {"posted": "posted", "failed": "failed"},
    "posted": {"settled": "settled", "returned": "returned"},
    "settled": {"funds_available": "funds_available"},  # ACH debits only
}
_USER_ACTION = {"ITEM_LOGIN_REQUIRED", "PAYMENT_PROFILE_LOGIN_REQUIRED", "MIGRATED_ACCOUNT_ITEM"}


@dataclass
class Item:
    item_id: str
    institution_id: str
    access_token: str
    accounts: list[dict[str, Any]] = field(default_factory=list)


class FakePlaid(LocalServer):
    def __init__(self) -> None:
        self.client_id = secrets.token_hex(12)
        self.secret = secrets.token_hex(15)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.link_users: list[str] = []  # client_user_id of every link token
        self.removed: list[str] = []  # access tokens given up
        self.stripe_tokens: dict[str, str] = {}  # btok_ -> account id
        self._public: dict[str, Item] = {}
        self._items: dict[str, Item] = {}  # by access token
        self._failures: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        # Plaid Transfer
        self.ledger_available = Decimal("10000000.00")  # what can fund credits
        self.authorizations: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._declines: list[str] = []
        self._authorization_keys: dict[str, str] = {}
        self._transfer_keys: dict[str, str] = {}
        self._authorized: dict[str, dict[str, Any]] = {}  # authorization id: access_token, account
        self._serve(self._handler())

    def fail_next(self, count: int, status: int, path: str | None = None) -> None:
        """Answer the next `count` requests (to `path` only, when given) with that status."""
        with self._lock:
            self._failures.extend([(status, path)] * count)

    def public_token(self, institution_id: str = "ins_109508") -> str:
        """What Link hands the browser once someone has signed in to their bank."""
        return self._sandbox_public_token({"institution_id": institution_id})["public_token"]

    def account_id(self, public_token: str, subtype: str) -> str:
        item = self._public[public_token]
        return next(a["account_id"] for a in item.accounts if a["subtype"] == subtype)

    def linked_account(self, subtype: str = "checking") -> tuple[str, str]:
        """An access token and the id of its account of that subtype, as after Link."""
        token = self.public_token()
        account_id = self.account_id(token, subtype)
        return self._exchange({"public_token": token})["access_token"], account_id

    def decline_next(self, code: str = "NSF") -> None:
        """The next new authorization is declined with this rationale code."""
        with self._lock:
            self._declines.append(code)

    # Endpoints

    def _link_token(self, body: dict[str, Any]) -> dict[str, Any]:
        self.link_users.append(body["user"]["client_user_id"])
        return {
            "link_token": f"link-sandbox-{secrets.token_hex(16)}",
            "expiration": "2026-12-05T04:00:00Z",
        }

    def _sandbox_public_token(self, body: dict[str, Any]) -> dict[str, Any]:
        institution_id = body.get("institution_id")
        if institution_id not in INSTITUTIONS:
            raise _PlaidError("INVALID_INSTITUTION", "unknown institution")
        item = Item(
            f"item-{secrets.token_hex(8)}", institution_id, f"access-{secrets.token_hex(16)}"
        )
        for name, subtype, kind, mask in (
            ("Plaid Checking", "checking", "depository", "0000"),
            ("Plaid Saving", "savings", "depository", "1111"),
            ("Plaid Credit Card", "credit card", "credit", "3333"),
        ):
            item.accounts.append(
                {
                    "account_id": secrets.token_hex(12),
                    "balances": {
                        "available": 100.0,
                        "current": 110.0,
                        "limit": None,
                        "iso_currency_code": "USD",
                        "unofficial_currency_code": None,
                    },
                    "mask": mask,
                    "name": name,
                    "official_name": f"{name} Account",
                    "type": kind,
                    "subtype": subtype,
                }
            )
        token = f"public-sandbox-{secrets.token_hex(16)}"
        with self._lock:
            self._public[token] = item
        return {"public_token": token}

    def _exchange(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item = self._public.pop(body.get("public_token", ""), None)
            if item is None:
                raise _PlaidError("INVALID_PUBLIC_TOKEN", "provided public token is invalid")
            self._items[item.access_token] = item
        return {"access_token": item.access_token, "item_id": item.item_id}

    def _auth(self, body: dict[str, Any]) -> dict[str, Any]:
        item = self._item(body)
        ach = [
            {
                "account_id": a["account_id"],
                "account": "111122223333" + a["mask"],
                "routing": ROUTING,
                "wire_routing": ROUTING,
            }
            for a in item.accounts
            if a["type"] == "depository"
        ]
        return {
            "accounts": item.accounts,
            "numbers": {"ach": ach, "eft": [], "international": [], "bacs": []},
            "item": {
                "item_id": item.item_id,
                "institution_id": item.institution_id,
                "institution_name": INSTITUTIONS[item.institution_id],
                "webhook": None,
                "error": None,
                "available_products": ["balance"],
                "billed_products": ["auth"],
                "consent_expiration_time": None,
                "update_type": "background",
            },
        }

    def _stripe_token(self, body: dict[str, Any]) -> dict[str, Any]:
        item = self._item(body)
        account = next(
            (a for a in item.accounts if a["account_id"] == body.get("account_id")), None
        )
        if account is None:
            raise _PlaidError("INVALID_ACCOUNT_ID", "the account id is not one of the item's")
        if account["type"] != "depository":
            raise _PlaidError(
                "INVALID_ACCOUNT_ID", "Stripe bank account tokens are for depository accounts"
            )
        token = f"btok_{secrets.token_hex(12)}"
        with self._lock:
            self.stripe_tokens[token] = account["account_id"]
        return {"stripe_bank_account_token": token, "request_id": uuid.uuid4().hex[:16]}

    def _remove(self, body: dict[str, Any]) -> dict[str, Any]:
        item = self._item(body)
        with self._lock:
            self._items.pop(item.access_token, None)
            self.removed.append(item.access_token)
        return {}

    # Plaid Transfer

    def _authorize(self, body: dict[str, Any]) -> dict[str, Any]:
        item = self._item(body)
        account = next(
            (a for a in item.accounts if a["account_id"] == body.get("account_id")), None
        )
        if account is None:
            raise _PlaidError("INVALID_ACCOUNT_ID", "account_id not found", "INVALID_INPUT")
        if account["type"] != "depository":
            raise _PlaidError(
                "TRANSFER_UNSUPPORTED_ACCOUNT_TYPE",
                "transfers to this account type are not supported",
                "TRANSFER_ERROR",
            )
        amount = str(body.get("amount", ""))
        kind = body.get("type")
        if not _AMOUNT.fullmatch(amount) or Decimal(amount) <= 0:
            raise _PlaidError("INVALID_FIELD", "amount must be a positive decimal string")
        if kind not in ("credit", "debit") or body.get("network") not in ("ach", "same-day-ach"):
            raise _PlaidError("INVALID_FIELD", "type must be credit or debit, network ach")
        if not (body.get("user") or {}).get("legal_name"):
            raise _PlaidError("INVALID_FIELD", "user.legal_name is required")
        key = body.get("idempotency_key")
        with self._lock:
            if key and key in self._authorization_keys:
                return {"authorization": self.authorizations[self._authorization_keys[key]]}
            decline = self._declines.pop(0) if self._declines else None
            if decline is None and kind == "credit" and Decimal(amount) > self.ledger_available:
                decline = "NSF"
            authorization = {
                "id": str(uuid.uuid4()),
                "created": _now(),
                "decision": (
                    "approved"
                    if decline is None
                    else "user_action_required"
                    if decline in _USER_ACTION
                    else "declined"
                ),
                "decision_rationale": (
                    None
                    if decline is None
                    else {"code": decline, "description": f"declined in the fake: {decline}"}
                ),
                "guarantee_decision": None,
                "guarantee_decision_rationale": None,
                "payment_risk": None,
                "proposed_transfer": {
                    "funding_account_id": None,
                    "type": kind,
                    "user": _user(body),
                    "amount": amount,
                    "requested_amount": amount,
                    "network": body["network"],
                    "origination_account_id": "",
                    "iso_currency_code": body.get("iso_currency_code", "USD"),
                    "originator_client_id": None,
                    "credit_funds_source": None,
                    "ach_class": body.get("ach_class", "ppd"),
                    "account_id": account["account_id"],
                    "ledger_id": None,
                },
            }
            self.authorizations[authorization["id"]] = authorization
            self._authorized[authorization["id"]] = {
                "access_token": item.access_token,
                "account_id": account["account_id"],
            }
            if key:
                self._authorization_keys[key] = authorization["id"]
        return {"authorization": authorization}

    def _create_transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        key = body.get("idempotency_key")
        with self._lock:
            if key and key in self._transfer_keys:
                return {"transfer": self.transfers[self._transfer_keys[key]]}
            authorization = self.authorizations.get(body.get("authorization_id", ""))
            if authorization is None:
                raise _PlaidError("INVALID_FIELD", "authorization_id not found")
            if authorization["decision"] != "approved":
                raise _PlaidError("INVALID_FIELD", "the authorization was not approved")
            if self._authorized[authorization["id"]] != {
                "access_token": body.get("access_token"),
                "account_id": body.get("account_id"),
            }:
                raise _PlaidError("INVALID_FIELD", "the authorization is for another account")
            if any(t["authorization_id"] == authorization["id"] for t in self.transfers.values()):
                raise _PlaidError("INVALID_FIELD", "the authorization was already used")
            description = str(body.get("description", ""))
            if not 0 < len(description) <= 15:
                raise _PlaidError("INVALID_FIELD", "description must be 1 to 15 characters")
            proposed = authorization["proposed_transfer"]
            transfer = {
                "id": str(uuid.uuid4()),
                "authorization_id": authorization["id"],
                "funding_account_id": None,
                "type": proposed["type"],
                "user": proposed["user"],
                "amount": proposed["amount"],
                "description": description,
                "created": _now(),
                "status": "pending",
                "network": proposed["network"],
                "cancellable": True,
                "failure_reason": None,
                "metadata": body.get("metadata"),
                "origination_account_id": "",
                "guarantee_decision": None,
                "guarantee_decision_rationale": None,
                "iso_currency_code": proposed["iso_currency_code"],
                "standard_return_window": None,
                "unauthorized_return_window": None,
                "expected_settlement_date": None,
                "originator_client_id": None,
                "refunds": [],
                "recurring_transfer_id": None,
                "credit_funds_source": None,
                "ach_class": proposed["ach_class"],
                "account_id": proposed["account_id"],
                "ledger_id": None,
                "expected_funds_available_date": None,
                "network_trace_id": None,
            }
            self.transfers[transfer["id"]] = transfer
            if key:
                self._transfer_keys[key] = transfer["id"]
            self._event(transfer, "pending")
        return {"transfer": transfer}

    def _get_transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"transfer": self._transfer(body)}

    def _cancel_transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            transfer = self._transfer(body)
            if transfer["status"] != "pending":
                raise _PlaidError(
                    "TRANSFER_NOT_CANCELLABLE", "transfer is not cancellable", "TRANSFER_ERROR"
                )
            transfer.update(status="cancelled", cancellable=False)
            self._event(transfer, "cancelled")
        return {}

    def _event_sync(self, body: dict[str, Any]) -> dict[str, Any]:
        after_id, count = int(body.get("after_id", 0)), int(body.get("count") or 100)
        with self._lock:
            later = [e for e in self.events if e["event_id"] > after_id]
        return {"transfer_events": later[:count], "has_more": len(later) > count}

    def _simulate(self, body: dict[str, Any]) -> dict[str, Any]:
        event_type = body.get("event_type")
        with self._lock:
            transfer = self._transfer(body)
            status = _MOVES.get(transfer["status"], {}).get(str(event_type))
            if status is None or (status == "funds_available" and transfer["type"] != "debit"):
                raise _PlaidError(
                    "INVALID_FIELD",
                    f"cannot simulate {event_type} for a {transfer['status']} transfer",
                )
            if status in ("failed", "returned"):
                given = body.get("failure_reason") or {}
                code = given.get("ach_return_code") or given.get("failure_code")
                transfer["failure_reason"] = {
                    "failure_code": code,
                    "ach_return_code": code,
                    "description": given.get("description") or _describe(code),
                }
            transfer.update(status=status, cancellable=False)
            self._event(transfer, str(event_type))
        return {}

    def _transfer(self, body: dict[str, Any]) -> dict[str, Any]:
        transfer = self.transfers.get(body.get("transfer_id", ""))
        if transfer is None:
            raise _PlaidError("INVALID_FIELD", "transfer_id not found")
        return transfer

    def _event(self, transfer: dict[str, Any], event_type: str) -> None:
        """Record an event; the caller holds the lock."""
        self.events.append(
            {
                "event_id": len(self.events) + 1,
                "timestamp": _now(),
                "event_type": event_type,
                "account_id": transfer["account_id"],
                "funding_account_id": None,
                "ledger_id": None,
                "transfer_id": transfer["id"],
                "origination_account_id": None,
                "transfer_type": transfer["type"],
                "transfer_amount": transfer["amount"],
                "failure_reason": transfer["failure_reason"],
                "sweep_id": None,
                "sweep_amount": None,
                "refund_id": None,
                "originator_client_id": None,
                "intent_id": None,
                "wire_return_fee": None,
            }
        )

    def _item(self, body: dict[str, Any]) -> Item:
        item = self._items.get(body.get("access_token", ""))
        if item is None:
            raise _PlaidError("INVALID_ACCESS_TOKEN", "provided access token is invalid")
        return item

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        routes = {
            "/link/token/create": fake._link_token,
            "/sandbox/public_token/create": fake._sandbox_public_token,
            "/item/public_token/exchange": fake._exchange,
            "/auth/get": fake._auth,
            "/item/remove": fake._remove,
            "/processor/stripe/bank_account_token/create": fake._stripe_token,
            "/transfer/authorization/create": fake._authorize,
            "/transfer/create": fake._create_transfer,
            "/transfer/get": fake._get_transfer,
            "/transfer/cancel": fake._cancel_transfer,
            "/transfer/event/sync": fake._event_sync,
            "/sandbox/transfer/simulate": fake._simulate,
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                with fake._lock:
                    fake.requests.append((self.path, body))
                    failure = next((f for f in fake._failures if f[1] in (None, self.path)), None)
                    if failure is not None:
                        fake._failures.remove(failure)
                if failure is not None:
                    self._error(failure[0], "API_ERROR", "INTERNAL_SERVER_ERROR", "try again")
                    return
                client_id = self.headers.get("PLAID-CLIENT-ID") or body.get("client_id")
                secret = self.headers.get("PLAID-SECRET") or body.get("secret")
                if (client_id, secret) != (fake.client_id, fake.secret):
                    self._error(400, "INVALID_INPUT", "INVALID_API_KEYS", "invalid client_id")
                    return
                route = routes.get(self.path)
                if route is None:
                    self._error(404, "INVALID_REQUEST", "NOT_FOUND", "unknown path")
                    return
                try:
                    answer = route(body)
                except _PlaidError as exc:
                    self._error(400, exc.kind, exc.code, exc.message)
                    return
                self._send(200, {**answer, "request_id": secrets.token_hex(8)})

            def _error(self, status: int, kind: str, code: str, message: str) -> None:
                self._send(
                    status,
                    {
                        "error_type": kind,
                        "error_code": code,
                        "error_message": message,
                        "display_message": None,
                        "request_id": secrets.token_hex(8),
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class _PlaidError(Exception):
    def __init__(self, code: str, message: str, kind: str = "INVALID_INPUT") -> None:
        super().__init__(message)
        self.code, self.message, self.kind = code, message, kind


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _user(body: dict[str, Any]) -> dict[str, Any]:
    user = body.get("user") or {}
    return {
        "legal_name": user.get("legal_name"),
        "phone_number": user.get("phone_number"),
        "email_address": user.get("email_address"),
        "address": None,
    }


def _describe(code: str | None) -> str:
    return {"R01": "Insufficient funds", "R02": "Account closed"}.get(code or "", "Returned")
