"""A local fake of Plaid's API that the real plaid-python SDK talks to over HTTP.

    with FakePlaid() as fake:
        configuration = plaid.Configuration(host=fake.url, api_key={...})

It answers what bank verification needs: /link/token/create, /sandbox/public_token/create
(what Link hands the browser, made the way Plaid's sandbox makes it), /item/public_token/exchange
(a public token works once), /auth/get and /item/remove. Every request must carry the client id
and secret headers (400 INVALID_API_KEYS otherwise); errors have Plaid's JSON shape. Each item
has a checking, a savings and a credit card account; only the first two have ACH numbers.
`fail_next(n, status)` answers the next n requests with that status.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import LocalServer

INSTITUTIONS = {"ins_109508": "First Platypus Bank", "ins_109509": "First Gingham Credit Union"}
ROUTING = "011401533"


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
        self._public: dict[str, Item] = {}
        self._items: dict[str, Item] = {}  # by access token
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._serve(self._handler())

    def fail_next(self, count: int, status: int) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def public_token(self, institution_id: str = "ins_109508") -> str:
        """What Link hands the browser once someone has signed in to their bank."""
        return self._sandbox_public_token({"institution_id": institution_id})["public_token"]

    def account_id(self, public_token: str, subtype: str) -> str:
        item = self._public[public_token]
        return next(a["account_id"] for a in item.accounts if a["subtype"] == subtype)

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

    def _remove(self, body: dict[str, Any]) -> dict[str, Any]:
        item = self._item(body)
        with self._lock:
            self._items.pop(item.access_token, None)
            self.removed.append(item.access_token)
        return {}

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
                    failure = fake._failures.pop(0) if fake._failures else None
                if failure is not None:
                    self._error(failure, "API_ERROR", "INTERNAL_SERVER_ERROR", "try again")
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
                    self._error(400, "INVALID_INPUT", exc.code, exc.message)
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
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message
