"""A local fake of PayPal's REST API on 127.0.0.1, which the real PayPalClient talks to.

    with FakePayPal(client_id="cid", secret="sec") as fake:
        client = PayPalClient("cid", "sec", api_base=fake.url)

Endpoints (PayPal's wire format: JSON bodies, PayPal's error bodies with name/details[].issue):

- POST /v1/oauth2/token (client credentials with HTTP Basic auth; `token_lifetime` seconds)
- POST /v2/checkout/orders, GET /v2/checkout/orders/{id}, POST .../{id}/capture, .../authorize
- POST /v2/payments/authorizations/{id}/capture, .../void
- POST /v2/payments/captures/{id}/refund
- POST /v1/notifications/verify-webhook-signature

The buyer: a new order (with payment_source.paypal) is PAYER_ACTION_REQUIRED with a payer-action
link to this server. `approve(order_id)` plays the buyer approving it (APPROVED), with
`funding="declined"` a funding source that PayPal declines on capture / authorize (422
INSTRUMENT_DECLINED, as its docs describe), `funding="pending"` one whose capture stays PENDING.
`cancel(order_id)` plays the buyer cancelling (the order stays unapproved, as at PayPal).

Idempotency: PayPal-Request-Id per app: the same id and body replay the stored response; the
same id with another body is a 422 DUPLICATE_REQUEST_ID. Every capture, refund, void and
approval appends a PayPal-shaped event to `events`; `signed(event)` gives the headers of a
delivery the verify call accepts for `webhook_id`.

Faults: `fail_next(n, status)` answers the next n API requests (not token requests) with a
5xx/429, holds them past the client's timeout ("timeout") or resets the connection
("connection_reset"); with after_processing=True the request is processed first (the answer is
lost on the way back).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.local_server import LocalServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int | None = None


@dataclass
class _Fault:
    kind: int | str
    after_processing: bool
    hold: float


@dataclass
class _Idem:
    digest: str
    status: int
    body: dict[str, Any]


@dataclass
class FakeOrder:
    id: str
    intent: str
    currency: str
    value: str
    custom_id: str | None
    status: str = "PAYER_ACTION_REQUIRED"
    funding: str = "ok"
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    captures: list[dict[str, Any]] = field(default_factory=list)


class _ApiError(Exception):
    def __init__(self, status: int, name: str, issue: str | None = None, message: str = ""):
        self.status, self.name, self.issue, self.message = status, name, issue, message

    def body(self) -> dict[str, Any]:
        details = [{"issue": self.issue, "description": self.message}] if self.issue else []
        return {
            "name": self.name,
            "message": self.message or self.name,
            "debug_id": secrets.token_hex(6),
            "details": details,
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(n: int = 17) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


class FakePayPal(LocalServer):
    def __init__(
        self,
        *,
        client_id: str = "fake-client-id",
        secret: str = "fake-secret",
        webhook_id: str = "WH-FAKE-1",
        token_lifetime: int = 32400,
    ) -> None:
        self.client_id, self.secret, self.webhook_id = client_id, secret, webhook_id
        self.token_lifetime = token_lifetime
        self.tokens: set[str] = set()
        self.orders: dict[str, FakeOrder] = {}
        self.authorizations: dict[str, str] = {}  # authorization id -> order id
        self.captures: dict[str, str] = {}  # capture id -> order id
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self._idempotency: dict[str, _Idem] = {}
        self._signatures: dict[str, str] = {}  # transmission id -> signature
        self._faults: deque[_Fault] = deque()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        handler = type("FakePayPalHandler", (_Handler,), {"fake": self})
        self._serve(handler)

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()
        super().__exit__(*exc)

    # -- test hooks ------------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, status: int | str = 500, *, after_processing: bool = False, hold=3.0
    ) -> None:
        with self._lock:
            self._faults.extend(_Fault(status, after_processing, hold) for _ in range(n))

    def expire_tokens(self) -> None:
        """Every access token issued so far is refused from now on (401)."""
        with self._lock:
            self.tokens.clear()

    def approve(self, order_id: str, *, funding: str = "ok") -> None:
        with self._lock:
            order = self.orders[order_id]
            assert order.status in ("PAYER_ACTION_REQUIRED", "APPROVED"), order.status
            order.status, order.funding = "APPROVED", funding
            self._event("CHECKOUT.ORDER.APPROVED", "checkout-order", self._order_body(order))

    def cancel(self, order_id: str) -> None:
        """The buyer cancelled on PayPal's page: PayPal changes nothing, the order expires."""
        with self._lock:
            assert order_id in self.orders

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or re.fullmatch(path, r.path))
        ]

    def signed(self, event: dict[str, Any]) -> dict[str, str]:
        """The PAYPAL-* headers of a delivery of `event` that the verify call accepts."""
        transmission = secrets.token_hex(8)
        signature = base64.b64encode(
            hashlib.sha256(f"{transmission}|{self.webhook_id}|{event['id']}".encode()).digest()
        ).decode()
        with self._lock:
            self._signatures[transmission] = signature
        return {
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-fake",
            "PAYPAL-TRANSMISSION-ID": transmission,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-TRANSMISSION-TIME": _now(),
        }

    # -- serving ---------------------------------------------------------------------------

    def _serve_request(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path.split("?")[0]
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body: Any = dict(parse_qsl(raw.decode()))
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        record = Recorded(handler.command, path, headers, body)
        with self._lock:
            self.requests.append(record)
            token_call = path == "/v1/oauth2/token"
            fault = self._faults.popleft() if self._faults and not token_call else None
        if fault and not fault.after_processing:
            return self._fail(handler, record, fault)
        status, answer = self._respond(record, raw)
        if fault:
            return self._fail(handler, record, fault)
        record.status = status
        _write(handler, status, answer)

    def _fail(self, handler: _Handler, record: Recorded, fault: _Fault) -> None:
        if fault.kind == "timeout":
            self._stopping.wait(fault.hold)
            handler.close_connection = True
        elif fault.kind == "connection_reset":
            handler.close_connection = True
            linger = struct.pack("ii", 1, 0)
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            handler.connection.close()
        else:
            assert isinstance(fault.kind, int)
            record.status = fault.kind
            name = "RATE_LIMIT_REACHED" if fault.kind == 429 else "INTERNAL_SERVER_ERROR"
            _write(handler, fault.kind, _ApiError(fault.kind, name).body())

    def _respond(self, record: Recorded, raw: bytes) -> tuple[int, dict[str, Any] | None]:
        try:
            if record.path == "/v1/oauth2/token":
                return 200, self._token(record)
            self._authenticate(record)
            for method, pattern, name in _ROUTES:
                match = re.fullmatch(pattern, record.path)
                if match and method == record.method:
                    if method == "POST" and record.headers.get("paypal-request-id"):
                        return self._idempotent(record, raw, name, match.groups())
                    return getattr(self, name)(record, *match.groups())
            raise _ApiError(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "No such route")
        except _ApiError as err:
            return err.status, err.body()

    def _idempotent(
        self, record: Recorded, raw: bytes, name: str, groups: tuple[str, ...]
    ) -> tuple[int, dict[str, Any] | None]:
        digest = hashlib.sha256(raw).hexdigest()
        with self._lock:
            stored = self._idempotency.get(record.headers["paypal-request-id"])
            if stored is not None:
                if stored.digest != f"{record.path}|{digest}":
                    raise _ApiError(
                        422,
                        "UNPROCESSABLE_ENTITY",
                        "DUPLICATE_REQUEST_ID",
                        "The PayPal-Request-Id was used for another request",
                    )
                return stored.status, copy.deepcopy(stored.body)
            try:
                status, body = getattr(self, name)(record, *groups)
            except _ApiError as err:
                if err.status >= 500 or err.status == 401:
                    raise
                status, body = err.status, err.body()
            self._idempotency[record.headers["paypal-request-id"]] = _Idem(
                f"{record.path}|{digest}", status, copy.deepcopy(body or {})
            )
            return status, body

    def _token(self, record: Recorded) -> dict[str, Any]:
        auth = record.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        if auth != f"Basic {expected}" or (record.body or {}).get("grant_type") != (
            "client_credentials"
        ):
            raise _ApiError(401, "invalid_client", None, "Client Authentication failed")
        token = "A21AA" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-FAKE",
            "expires_in": self.token_lifetime,
            "nonce": secrets.token_hex(8),
        }

    def _authenticate(self, record: Recorded) -> None:
        token = record.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            if token not in self.tokens:
                raise _ApiError(401, "AUTHENTICATION_FAILURE", None, "Token is invalid")

    # -- orders ----------------------------------------------------------------------------

    def _order_body(self, order: FakeOrder) -> dict[str, Any]:
        payments: dict[str, Any] = {}
        if order.authorizations:
            payments["authorizations"] = copy.deepcopy(order.authorizations)
        if order.captures:
            payments["captures"] = copy.deepcopy(order.captures)
        unit: dict[str, Any] = {
            "reference_id": "default",
            "amount": {"currency_code": order.currency, "value": order.value},
        }
        if order.custom_id:
            unit["custom_id"] = order.custom_id
        if payments:
            unit["payments"] = payments
        links = [{"href": f"{self.url}/v2/checkout/orders/{order.id}", "rel": "self"}]
        if order.status == "PAYER_ACTION_REQUIRED":
            links.append(
                {"href": f"{self.url}/checkoutnow?token={order.id}", "rel": "payer-action"}
            )
        return {
            "id": order.id,
            "intent": order.intent,
            "status": order.status,
            "purchase_units": [unit],
            "links": links,
        }

    def _create_order(self, record: Recorded) -> tuple[int, dict[str, Any]]:
        body = record.body if isinstance(record.body, dict) else {}
        intent = body.get("intent")
        units = body.get("purchase_units")
        if intent not in ("CAPTURE", "AUTHORIZE") or not isinstance(units, list) or not units:
            raise _ApiError(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "intent")
        amount = units[0].get("amount") or {}
        currency, value = amount.get("currency_code"), amount.get("value")
        if currency not in ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "HUF"):
            raise _ApiError(422, "UNPROCESSABLE_ENTITY", "CURRENCY_NOT_SUPPORTED", str(currency))
        if not isinstance(value, str) or not re.fullmatch(r"\d+(\.\d{1,2})?", value):
            raise _ApiError(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "amount.value")
        if "paypal" not in (body.get("payment_source") or {}):
            raise _ApiError(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "payment_source")
        order = FakeOrder(_id(), intent, currency, value, units[0].get("custom_id"))
        with self._lock:
            self.orders[order.id] = order
        return 200, self._order_body(order)

    def _order(self, order_id: str) -> FakeOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise _ApiError(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "No such order")
        return order

    def _get_order(self, record: Recorded, order_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return 200, self._order_body(self._order(order_id))

    def _ready(self, order: FakeOrder, done: str) -> None:
        if order.status == "COMPLETED":
            raise _ApiError(422, "UNPROCESSABLE_ENTITY", done, "The order is completed")
        if order.status != "APPROVED":
            raise _ApiError(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED", "Not approved")
        if order.funding == "declined":
            raise _ApiError(
                422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", "The instrument was declined"
            )

    def _capture_order(self, record: Recorded, order_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            order = self._order(order_id)
            if order.intent != "CAPTURE":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "ACTION_DOES_NOT_MATCH_INTENT", "")
            self._ready(order, "ORDER_ALREADY_CAPTURED")
            capture = self._new_capture(order, order.value)
            order.captures.append(capture)
            order.status = "COMPLETED"
            self._capture_event(capture)
            return 201, self._order_body(order)

    def _authorize_order(self, record: Recorded, order_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            order = self._order(order_id)
            if order.intent != "AUTHORIZE":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "ACTION_DOES_NOT_MATCH_INTENT", "")
            self._ready(order, "ORDER_ALREADY_AUTHORIZED")
            authorization = {
                "id": _id(),
                "status": "CREATED",
                "amount": {"currency_code": order.currency, "value": order.value},
                "custom_id": order.custom_id,
                "supplementary_data": {"related_ids": {"order_id": order.id}},
            }
            order.authorizations.append(authorization)
            self.authorizations[authorization["id"]] = order.id
            order.status = "COMPLETED"
            self._event("PAYMENT.AUTHORIZATION.CREATED", "authorization", authorization)
            return 201, self._order_body(order)

    def _new_capture(self, order: FakeOrder, value: str) -> dict[str, Any]:
        status = "PENDING" if order.funding == "pending" else "COMPLETED"
        capture = {
            "id": _id(),
            "status": status,
            "amount": {"currency_code": order.currency, "value": value},
            "final_capture": True,
            "custom_id": order.custom_id,
            "supplementary_data": {"related_ids": {"order_id": order.id}},
            "create_time": _now(),
        }
        self.captures[capture["id"]] = order.id
        return capture

    def _capture_event(self, capture: dict[str, Any]) -> None:
        kind = {"COMPLETED": "COMPLETED", "PENDING": "PENDING", "DECLINED": "DENIED"}
        self._event(f"PAYMENT.CAPTURE.{kind[capture['status']]}", "capture", capture)

    # -- payments --------------------------------------------------------------------------

    def _authorization(self, authorization_id: str) -> tuple[FakeOrder, dict[str, Any]]:
        order_id = self.authorizations.get(authorization_id)
        if order_id is None:
            raise _ApiError(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "No such auth")
        order = self.orders[order_id]
        return order, next(a for a in order.authorizations if a["id"] == authorization_id)

    def _capture_authorization(
        self, record: Recorded, authorization_id: str
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            order, authorization = self._authorization(authorization_id)
            if authorization["status"] == "CAPTURED":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_ALREADY_CAPTURED", "")
            if authorization["status"] == "VOIDED":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_VOIDED", "")
            amount = (record.body or {}).get("amount") or authorization["amount"]
            capture = self._new_capture(order, amount["value"])
            order.captures.append(capture)
            authorization["status"] = "CAPTURED"
            self._capture_event(capture)
            return 201, capture

    def _void_authorization(
        self, record: Recorded, authorization_id: str
    ) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            order, authorization = self._authorization(authorization_id)
            if authorization["status"] == "VOIDED":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_VOIDED", "")
            if authorization["status"] == "CAPTURED":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_ALREADY_CAPTURED", "")
            authorization["status"] = "VOIDED"
            order.status = "VOIDED"
            self._event("PAYMENT.AUTHORIZATION.VOIDED", "authorization", authorization)
            return 200, copy.deepcopy(authorization)

    def _refund_capture(self, record: Recorded, capture_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            order_id = self.captures.get(capture_id)
            if order_id is None:
                raise _ApiError(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "No such capture")
            order = self.orders[order_id]
            capture = next(c for c in order.captures if c["id"] == capture_id)
            if capture["status"] == "REFUNDED":
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED", "")
            captured = _cents(capture["amount"]["value"])
            already = sum(
                _cents(r["amount"]["value"])
                for r in self.refunds.values()
                if r["capture_id"] == capture_id
            )
            amount = (record.body or {}).get("amount") or capture["amount"]
            wanted = _cents(amount["value"])
            if already + wanted > captured:
                raise _ApiError(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED", "")
            refund = {
                "id": _id(),
                "status": "COMPLETED",
                "amount": {"currency_code": order.currency, "value": amount["value"]},
                "custom_id": (record.body or {}).get("custom_id"),
                "create_time": _now(),
                "links": [{"href": f"{self.url}/v2/payments/captures/{capture_id}", "rel": "up"}],
            }
            self.refunds[refund["id"]] = {**refund, "capture_id": capture_id}
            capture["status"] = "REFUNDED" if already + wanted == captured else "PARTIALLY_REFUNDED"
            self._event("PAYMENT.CAPTURE.REFUNDED", "refund", refund)
            return 201, refund

    def _verify_webhook(self, record: Recorded) -> tuple[int, dict[str, Any]]:
        body = record.body if isinstance(record.body, dict) else {}
        event = body.get("webhook_event") or {}
        transmission = str(body.get("transmission_id"))
        with self._lock:
            expected = self._signatures.get(transmission)
        expected_sig = base64.b64encode(
            hashlib.sha256(f"{transmission}|{self.webhook_id}|{event.get('id')}".encode()).digest()
        ).decode()
        ok = (
            expected is not None
            and body.get("webhook_id") == self.webhook_id
            and body.get("transmission_sig") == expected == expected_sig
        )
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}

    # -- events ----------------------------------------------------------------------------

    def _event(self, event_type: str, resource_type: str, resource: dict[str, Any]) -> None:
        self.events.append(
            {
                "id": "WH-" + _id(20),
                "event_version": "1.0",
                "create_time": _now(),
                "resource_type": resource_type,
                "event_type": event_type,
                "summary": event_type,
                "resource": copy.deepcopy(resource),
            }
        )


def _cents(value: str) -> int:
    whole, _, fraction = value.partition(".")
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


_ROUTES = [
    ("POST", r"/v2/checkout/orders", "_create_order"),
    ("GET", r"/v2/checkout/orders/([A-Z0-9]+)", "_get_order"),
    ("POST", r"/v2/checkout/orders/([A-Z0-9]+)/capture", "_capture_order"),
    ("POST", r"/v2/checkout/orders/([A-Z0-9]+)/authorize", "_authorize_order"),
    ("POST", r"/v2/payments/authorizations/([A-Z0-9]+)/capture", "_capture_authorization"),
    ("POST", r"/v2/payments/authorizations/([A-Z0-9]+)/void", "_void_authorization"),
    ("POST", r"/v2/payments/captures/([A-Z0-9]+)/refund", "_refund_capture"),
    ("POST", r"/v1/notifications/verify-webhook-signature", "_verify_webhook"),
]


def _write(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Paypal-Debug-Id", secrets.token_hex(6))
    handler.end_headers()
    handler.wfile.write(data)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    fake: FakePayPal

    def do_GET(self) -> None:
        self.fake._serve_request(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass
