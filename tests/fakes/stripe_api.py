"""A local fake of the Stripe API that the real stripe-python SDK talks to over HTTP.

    with FakeStripe(api_key="sk_test_fake") as fake:
        client = stripe.StripeClient("sk_test_fake", base_addresses={"api": fake.url})

It speaks Stripe's wire format (form-encoded requests, multipart file uploads, JSON objects and
error bodies) for the endpoints the gateway uses: PaymentIntents (create with confirm, retrieve,
capture, cancel), Refunds (create, retrieve), PaymentMethods (retrieve), Files (create: the SDK
sends uploads to the "files" base address, which this same server answers), Disputes (retrieve,
update with evidence and submit, close), Payouts (list) and Balance transactions (list, with the
`payout` filter and `expand[]=data.source`), Customers (create), SetupIntents (create with
confirm, retrieve), PaymentMethods (attach, detach) and PaymentMethodDomains (create, list with
`domain_name` and `enabled`, retrieve, update, validate). Lists page as Stripe's do: newest
first, `limit`, `starting_after`, `has_more`, and `created[gt|gte|lt|lte]`. The published test
PaymentMethods (pm_card_visa, pm_card_chargeDeclined, ...) behave as in Stripe's test mode.

Saved cards: a SetupIntent confirmed for a customer attaches its PaymentMethod (succeeded); a
card that declines charges declines the set-up too (402 card_error, the SetupIntent left in
requires_payment_method), except pm_card_chargeCustomerFail, which attaches and then declines
every charge; a 3-D Secure card leaves the SetupIntent in requires_action, unattached. A
PaymentMethod attached to a customer is charged with that customer only. A PaymentIntent with
`off_session=true` for a 3-D Secure card is refused with a 402 card_error
`authentication_required` (the PaymentIntent in requires_payment_method), as Stripe's
"authentication required" cards are.

Wallets: `wallet_payment_method("apple_pay")` makes the PaymentMethod that Stripe.js makes in
the browser when the customer pays with Apple Pay (or Google Pay) in the Payment Element: a card
whose `card.wallet` names the wallet (`type`, its own sub-hash and `dynamic_last4`); the charge's
`payment_method_details.card.wallet` repeats it. PaymentMethodDomains: a domain name is a bare
host name (no scheme, port or path) and is registered once per account (400
`resource_already_exists` for a second); Google Pay is active at once; Apple Pay is active
unless `apple_pay_error` is set (the message Stripe gives when it cannot read the
domain-association file), re-checked by validate.

Disputes: pm_card_createDispute is disputed once it succeeds (charge.dispute.created and
charge.dispute.funds_withdrawn). A submitted response (charge.dispute.updated, under_review) whose
text contains `winning_evidence` is won a moment later (charge.dispute.closed and
charge.dispute.funds_reinstated), one with `losing_evidence` is lost (charge.dispute.closed): the
update's answer still says under_review, as Stripe's does. Closing a dispute loses it.

Balance: captured charges, refunds and disputes (withdrawn, reinstated) add balance
transactions, with Stripe's default fee on charges and its 15.00 dispute fee. `pay_out()` pays
the balance not yet paid out (payout.created, then payout.paid or payout.failed).

Bank debits (ACH): a Customer created with `source=btok_...` (Plaid's Stripe bank account
token: one use only) gets a verified bank account `ba_...` as its default source. A
PaymentIntent with payment_method_types ["us_bank_account"], that bank account and
`mandate_data` (customer acceptance, online: IP address and user agent; required to confirm)
is `processing` (charge.pending, payment_intent.processing) until `settle_bank()` applies the
account's outcome by Stripe's test account numbers (routing 110000000): 000123456789 succeeds,
000111111113 account_closed, 000111111116 no_account, 000222222227 insufficient_funds,
000333333335 debit_not_authorized (charge.failed, payment_intent.payment_failed). A token not
made by `bank_token()` stands for 000123456789, as Plaid's sandbox tokens succeed at Stripe.
`return_bank()` fails a succeeded debit later, as an ACH return does (charge.failed and
payment_intent.payment_failed after payment_intent.succeeded).

Accounts: `account(key)` answers another Stripe account at the same address (a merchant's own
account beside the platform's), with its own objects, balance, events and requests.

Like Stripe it checks the Bearer key (401) and honours Idempotency-Key per API key: the same key
and parameters replay the stored response (header Idempotent-Replayed: true), the same key with
other parameters is a 400 idempotency_error. Responses are stored when the endpoint ran (2xx and
402 card errors), not for validation errors. Every state change appends a Stripe-shaped event to
`events`, ready to be delivered as a webhook.

Faults: `fail_next(n, status)` answers the next n requests with a 5xx/429, holds them past the
client's timeout ("timeout") or resets the TCP connection ("connection_reset"); by default the
request is not processed, with after_processing=True it is (the response is lost on the way
back). `delay(seconds)` slows every request down before it is processed.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import hashlib
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DISPUTE_FEE = 1500
EVIDENCE_FILE_FIELDS = frozenset(
    {
        "cancellation_policy",
        "customer_communication",
        "customer_signature",
        "duplicate_charge_documentation",
        "receipt",
        "refund_policy",
        "service_documentation",
        "shipping_documentation",
        "uncategorized_file",
    }
)
_FILE_TYPES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
MINIMUM_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50}
CANCELABLE = {"requires_payment_method", "requires_capture", "requires_confirmation"}
CANCELABLE |= {"requires_action", "processing"}


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    country: str = "US"
    decline: tuple[str, str, str, str | None] | None = None  # code, decline_code, message, param
    three_d_secure: bool = False
    dispute: bool = False
    saves: bool = False  # a declining card that still saves (its charges decline)


_DECLINED, _EXPIRED, _CVC = (
    "Your card was declined.",
    "Your card has expired.",
    "Your card's security code is incorrect.",
)
# fmt: off
TEST_PAYMENT_METHODS: dict[str, TestCard] = {
    "pm_card_visa":                            TestCard("visa", "4242"),
    "pm_card_bypassPending":                   TestCard("visa", "0077"),
    "pm_card_mastercard":                      TestCard("mastercard", "4444"),
    "pm_card_chargeDeclined":                  TestCard("visa", "0002", decline=(
        "card_declined", "generic_decline", _DECLINED, None)),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", decline=(
        "card_declined", "insufficient_funds", _DECLINED, None)),
    "pm_card_chargeDeclinedExpiredCard":       TestCard("visa", "0069", decline=(
        "expired_card", "expired_card", _EXPIRED, "exp_month")),
    "pm_card_chargeDeclinedIncorrectCvc":      TestCard("visa", "0127", decline=(
        "incorrect_cvc", "incorrect_cvc", _CVC, "cvc")),
    "pm_card_authenticationRequired":          TestCard("visa", "3184", "DE", three_d_secure=True),
    "pm_card_authenticationRequiredOnSetup":   TestCard("visa", "3155", three_d_secure=True),
    "pm_card_chargeCustomerFail":              TestCard("visa", "0341", saves=True, decline=(
        "card_declined", "generic_decline", _DECLINED, None)),
    "pm_card_threeDSecure2Required":           TestCard("visa", "3220", three_d_secure=True),
    "pm_card_createDispute":                   TestCard("visa", "0259", dispute=True),
}
# fmt: on

# Stripe's ACH test account numbers (routing 110000000) and the failure code each ends with.
TEST_BANK_ACCOUNTS: dict[str, str | None] = {
    "000123456789": None,
    "000111111113": "account_closed",
    "000111111116": "no_account",
    "000222222227": "insufficient_funds",
    "000333333335": "debit_not_authorized",
}


class ApiError(Exception):
    """An error response, shaped like Stripe's {"error": {...}}."""

    def __init__(self, status: int, type_: str, message: str, **fields: Any):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **_compact(fields)}}


def invalid(message: str, *, code: str | None = None, param: str | None = None, **extra: Any):
    return ApiError(400, "invalid_request_error", message, code=code, param=param, **extra)


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]  # names lower-cased
    status: int | None = None  # None: no response was sent (timeout, reset)
    fault: str | None = None
    replayed: bool = False
    # Multipart uploads: field name -> (filename, bytes); params show their size and sha256.
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class _Fault:
    kind: int | str  # an HTTP status, "timeout" or "connection_reset"
    after_processing: bool
    hold: float


@dataclass
class _Stored:
    signature: tuple[str, str, str]
    status: int
    body: dict[str, Any]


@dataclass
class _Context:
    request_id: str
    idempotency_key: str | None
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeStripe:
    def __init__(self, api_key: str = "sk_test_fake", *, host: str = "127.0.0.1"):
        self.api_keys = {api_key}
        self.host = host
        self.next_refund_status = "succeeded"  # or "pending", as Stripe does for some refunds
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.bank_accounts: dict[str, dict[str, Any]] = {}
        self.mandates: dict[str, dict[str, Any]] = {}
        self._bank_tokens: dict[str, str] = {}  # unused btok_ -> its test account number
        self.disputes: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.file_contents: dict[str, bytes] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        self.paid_out: dict[str, str] = {}  # balance transaction id -> payout id
        self.payment_method_domains: dict[str, dict[str, Any]] = {}
        # Why Apple Pay cannot be verified on a domain (None: its association file is found).
        self.apple_pay_error: str | None = None
        self.events: list[dict[str, Any]] = []
        self.requests: list[RecordedRequest] = []
        self._cards: dict[str, TestCard] = {}  # payment method id -> its test card
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self._faults: deque[_Fault] = deque()
        self._delay = 0.0
        self._ctx: _Context | None = None
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._accounts: dict[str, FakeStripe] = {}  # other accounts served here, by API key
        self._connections: set[socket.socket] = set()  # clients' open (keep-alive) connections

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeStripe is not started"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> FakeStripe:
        handler = type("FakeStripeHandler", (_Handler,), {"fake": self})
        self._server = server = ThreadingHTTPServer((self.host, 0), handler)
        server.daemon_threads = True
        self._stopping.clear()
        poll = {"poll_interval": 0.01}  # stop() returns at once, not after up to 0.5 s
        self._thread = threading.Thread(target=server.serve_forever, kwargs=poll, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases requests held by a "timeout" fault or a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # A stopped server is gone for its clients' kept-alive connections too: each is ended
        # with a FIN, so a client sees it closed before reusing it and then finds the port
        # refusing connections, as when Stripe cannot be reached.
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- fault injection and test helpers --------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int | str = 500,
        *,
        after_processing: bool = False,
        hold: float = 5.0,
    ) -> None:
        """The next n requests fail: status 500/503/429..., "timeout" or "connection_reset"."""
        with self._lock:
            self._faults.extend(_Fault(status, after_processing, hold) for _ in range(n))

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    def account(self, api_key: str) -> FakeStripe:
        """Another Stripe account answered at this same address (a merchant's own account
        beside the platform's): requests with its key see and change its objects only, and
        its requests, events and faults are its own."""
        with self._lock:
            if api_key not in self._accounts:
                self._accounts[api_key] = FakeStripe(api_key, host=self.host)
            return self._accounts[api_key]

    def complete_authentication(self, intent_id: str, *, succeed: bool = True) -> None:
        """The customer passes (or fails) 3-D Secure on a requires_action PaymentIntent."""
        with self._lock:
            pi = self.payment_intents[intent_id]
            assert pi["status"] == "requires_action", pi["status"]
            pi["next_action"] = None
            if succeed:
                self._charge(pi)
                return
            pi["status"] = "requires_payment_method"
            pi["last_payment_error"] = {
                "type": "invalid_request_error",
                "code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication.",
                "payment_method": copy.deepcopy(self.payment_methods[pi["payment_method"]]),
            }
            self._emit("payment_intent.payment_failed", pi)

    # -- HTTP ------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if headers.get("content-type", "").startswith("multipart/form-data"):
            params, uploads = decode_multipart(headers["content-type"], body)
            record = RecordedRequest(handler.command, url.path, params, headers, uploads=uploads)
        else:
            raw = body.decode() if length else url.query
            record = RecordedRequest(handler.command, url.path, decode_form(raw), headers)
        api_key = (record.authorization or "").removeprefix("Bearer ").strip()
        owner = self._accounts.get(api_key)
        if owner is not None:
            return owner._handle(handler, record)
        return self._handle(handler, record)

    def _handle(self, handler: _Handler, record: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(record)
            fault = self._faults.popleft() if self._faults else None
        if self._delay:
            self._stopping.wait(self._delay)
        if fault and not fault.after_processing:
            return self._fail(handler, record, fault)
        status, body, extra = self._respond(record)
        if fault:
            return self._fail(handler, record, fault)
        record.status = status
        _write(handler, status, body, extra)

    def _fail(self, handler: _Handler, record: RecordedRequest, fault: _Fault) -> None:
        record.fault = str(fault.kind)
        if fault.kind == "timeout":
            self._stopping.wait(fault.hold)  # the client gives up first
            handler.close_connection = True
        elif fault.kind == "connection_reset":
            handler.close_connection = True
            linger = struct.pack("ii", 1, 0)  # close with a TCP RST, not a FIN
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            handler.connection.close()
        else:
            assert isinstance(fault.kind, int), fault.kind
            record.status = fault.kind
            if fault.kind == 429:
                error = ApiError(
                    429, "invalid_request_error", "Too many requests.", code="rate_limit"
                )
            else:
                error = ApiError(fault.kind, "api_error", "An unknown error occurred.")
            _write(handler, fault.kind, error.body, {})

    def _respond(self, record: RecordedRequest) -> tuple[int, dict[str, Any], dict[str, str]]:
        request_id = _new_id("req")
        headers = {"Request-Id": request_id}
        key = record.idempotency_key
        api_key = (record.authorization or "").removeprefix("Bearer ").strip()
        if not api_key or api_key not in self.api_keys:
            message = (
                f"Invalid API Key provided: {api_key[:8]}****{api_key[-4:]}"
                if api_key
                else "You did not provide an API key."
            )
            return 401, ApiError(401, "invalid_request_error", message).body, headers
        signature = (record.method, record.path, json.dumps(record.params, sort_keys=True))
        with self._lock:
            if key and record.method == "POST":
                headers["Idempotency-Key"] = key
                stored = self._idempotency.get((api_key, key))
                if stored and stored.signature != signature:
                    message = (
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request."
                    )
                    return 400, ApiError(400, "idempotency_error", message).body, headers
                if stored:
                    record.replayed = True
                    headers["Idempotent-Replayed"] = "true"
                    return stored.status, copy.deepcopy(stored.body), headers
            self._ctx = _Context(request_id, key, record.uploads)
            try:
                status, body = 200, self._dispatch(record.method, record.path, record.params)
            except ApiError as error:
                status, body = error.status, error.body
            finally:
                self._ctx = None
            if key and record.method == "POST" and (status < 300 or status == 402):
                self._idempotency[(api_key, key)] = _Stored(signature, status, body)
        return status, body, headers

    def _dispatch(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for route_method, pattern, name in _ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                obj = getattr(self, name)(params, *match.groups())
                return self._render(obj, params.get("expand", []))
        raise ApiError(
            404, "invalid_request_error", f"Unrecognized request URL ({method}: {path})."
        )

    # -- endpoints -------------------------------------------------------------------------

    def _create_payment_intent(self, p: dict[str, Any]) -> dict[str, Any]:
        amount = _int(p, "amount")
        currency = _required(p, "currency").lower()
        minimum = MINIMUM_AMOUNT.get(currency, 50)
        if amount < minimum:
            message = f"Amount must be at least {minimum} {currency} (in the minor unit)."
            raise invalid(message, code="amount_too_small", param="amount")
        capture_method = p.get("capture_method", "automatic_async")
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise invalid(f"Invalid capture_method: {capture_method}", param="capture_method")
        pi = {
            **_base("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "confirmation_method": "automatic",
            "currency": currency,
            "customer": p.get("customer"),
            "description": p.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "next_action": None,
            "payment_method": None,
            "payment_method_types": p.get("payment_method_types", ["card"]),
            "receipt_email": p.get("receipt_email"),
            "status": "requires_payment_method",
        }
        pi["client_secret"] = f"{pi['id']}_secret_{secrets.token_hex(12)}"
        automatic = p.get("automatic_payment_methods", {"enabled": "true"})
        redirects = "payment_method_types" not in p and automatic.get("enabled") == "true"
        confirming = p.get("confirm") == "true" and not p.get("return_url")
        if redirects and automatic.get("allow_redirects") != "never" and confirming:
            raise invalid(
                "This PaymentIntent is configured to accept payment methods enabled in your "
                "Dashboard. Because some of these payment methods might redirect your customer "
                "off of your page, you must provide a `return_url`."
            )
        if pi["customer"] is not None:
            self._customer(pi["customer"])
        bank = p.get("payment_method", "").startswith("ba_")
        if bank:
            ba = self.bank_accounts.get(p["payment_method"])
            if ba is None:
                raise _missing("payment_method", p["payment_method"], param="payment_method")
            if ba["customer"] != pi["customer"]:
                raise invalid(
                    "The provided bank account belongs to another Customer.",
                    param="payment_method",
                )
            if pi["payment_method_types"] != ["us_bank_account"] or currency != "usd":
                raise invalid(
                    "A bank account is debited with payment_method_types[]=us_bank_account in "
                    "usd only.",
                    param="payment_method_types",
                )
            acceptance = (p.get("mandate_data") or {}).get("customer_acceptance") or {}
            online = acceptance.get("online") or {}
            if p.get("confirm") == "true" and not (
                acceptance.get("type") == "online"
                and online.get("ip_address")
                and online.get("user_agent")
            ):
                raise invalid(
                    "mandate_data[customer_acceptance] (type online, with ip_address and "
                    "user_agent) is required to confirm an ACH Direct Debit PaymentIntent.",
                    param="mandate_data",
                )
            pi["payment_method"] = ba["id"]
            pi["status"] = "requires_confirmation"
            pi["_acceptance"] = acceptance
        elif "payment_method" in p:
            pm = self._payment_method(p["payment_method"])
            if pm["customer"] is not None and pm["customer"] != pi["customer"]:
                raise invalid(
                    f"The provided PaymentMethod {pm['id']} is attached to a Customer: pass "
                    "that Customer with it.",
                    param="payment_method",
                )
            pi["payment_method"] = pm["id"]
            pi["status"] = "requires_confirmation"
        usage = p.get("setup_future_usage")
        if usage not in (None, "on_session", "off_session"):
            raise invalid(f"Invalid setup_future_usage: {usage}", param="setup_future_usage")
        pi["setup_future_usage"] = usage
        off_session = p.get("off_session") == "true"
        if off_session and p.get("confirm") != "true":
            raise invalid("off_session can only be used with confirm=true.", param="off_session")
        self.payment_intents[pi["id"]] = pi
        self._emit("payment_intent.created", pi)
        if p.get("confirm") == "true":
            self._confirm(pi, off_session=off_session)
        return pi

    def _create_customer(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = {**_base("cus"), "object": "customer", "email": p.get("email")}
        customer |= {"name": p.get("name"), "metadata": p.get("metadata", {})}
        customer["default_source"] = None
        if "source" in p:
            customer["default_source"] = self._bank_account(p["source"], customer["id"])["id"]
        self.customers[customer["id"]] = customer
        self._emit("customer.created", customer)
        return customer

    def _create_setup_intent(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(_required(p, "customer"))
        pm = self._payment_method(_required(p, "payment_method"))
        si = {**_base("seti"), "object": "setup_intent", "customer": customer["id"]}
        si |= {"payment_method": pm["id"], "usage": p.get("usage", "off_session")}
        si |= {"status": "requires_confirmation", "last_setup_error": None, "next_action": None}
        si["client_secret"] = f"{si['id']}_secret_{secrets.token_hex(12)}"
        self.setup_intents[si["id"]] = si
        if p.get("confirm") != "true":
            return si
        card = self._cards[pm["id"]]
        if card.decline and not card.saves:
            code, decline_code, message, param = card.decline
            error = {"code": code, "decline_code": decline_code, "param": param}
            last_error = {"type": "card_error", "message": message, **error}
            si.update(status="requires_payment_method", last_setup_error=last_error)
            self._emit("setup_intent.setup_failed", si)
            raise ApiError(
                402,
                "card_error",
                message,
                **error,
                setup_intent=copy.deepcopy(si),
                payment_method=copy.deepcopy(pm),
            )
        if card.three_d_secure:
            action = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            }
            si.update(status="requires_action", next_action=action)
            self._emit("setup_intent.requires_action", si)
            return si
        pm["customer"] = customer["id"]
        si["status"] = "succeeded"
        self._emit("payment_method.attached", pm)
        self._emit("setup_intent.succeeded", si)
        return si

    def _retrieve_setup_intent(self, p: dict[str, Any], setup_id: str) -> dict[str, Any]:
        if setup_id not in self.setup_intents:
            raise _missing("setup_intent", setup_id, param="intent")
        return self.setup_intents[setup_id]

    def _attach_payment_method(self, p: dict[str, Any], pm_id: str) -> dict[str, Any]:
        if pm_id not in self.payment_methods:
            raise _missing("payment_method", pm_id, param="payment_method")
        customer = self._customer(_required(p, "customer"))
        pm = self.payment_methods[pm_id]
        if pm["customer"] not in (None, customer["id"]):
            raise invalid(
                "The payment method you provided has already been attached to a customer.",
                code="payment_method_unexpected_state",
            )
        pm["customer"] = customer["id"]
        self._emit("payment_method.attached", pm)
        return pm

    def _detach_payment_method(self, p: dict[str, Any], pm_id: str) -> dict[str, Any]:
        if pm_id not in self.payment_methods:
            raise _missing("payment_method", pm_id, param="payment_method")
        pm = self.payment_methods[pm_id]
        if pm["customer"] is None:
            raise invalid(
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible.",
                code="payment_method_unexpected_state",
            )
        pm["customer"] = None
        self._emit("payment_method.detached", pm)
        return pm

    def _customer(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise invalid(
                f"No such customer: '{customer_id}'", code="resource_missing", param="customer"
            )
        return self.customers[customer_id]

    def _retrieve_payment_intent(self, p: dict[str, Any], intent_id: str) -> dict[str, Any]:
        return self._intent(intent_id)

    def _capture(self, p: dict[str, Any], intent_id: str) -> dict[str, Any]:
        pi = self._intent(intent_id)
        if pi["status"] != "requires_capture":
            raise self._unexpected_state(pi, "captured", "requires_capture")
        amount = _int(p, "amount_to_capture", default=pi["amount_capturable"])
        if amount <= 0 or amount > pi["amount_capturable"]:
            raise invalid(
                f"The amount to capture ({amount}) must be greater than 0 and no more than the "
                f"amount capturable ({pi['amount_capturable']}).",
                code="amount_too_large" if amount > 0 else "amount_too_small",
                param="amount_to_capture",
            )
        charge = self.charges[pi["latest_charge"]]
        charge.update(captured=True, amount_captured=amount)
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self._charge_transaction(charge, amount)
        self._emit("charge.captured", charge)
        self._emit("payment_intent.succeeded", pi)
        self._maybe_dispute(pi, charge)
        return pi

    def _cancel(self, p: dict[str, Any], intent_id: str) -> dict[str, Any]:
        pi = self._intent(intent_id)
        if pi["status"] not in CANCELABLE:
            raise self._unexpected_state(pi, "canceled", ", ".join(sorted(CANCELABLE)))
        pi.update(status="canceled", canceled_at=int(time.time()), amount_capturable=0)
        pi["cancellation_reason"] = p.get("cancellation_reason")
        charge = self.charges.get(pi["latest_charge"] or "")
        if charge and charge["status"] == "succeeded" and not charge["captured"]:
            charge.update(refunded=True, amount_refunded=charge["amount"])  # hold released
        self._emit("payment_intent.canceled", pi)
        return pi

    def _create_refund(self, p: dict[str, Any]) -> dict[str, Any]:
        pi = self.payment_intents.get(_required(p, "payment_intent"))
        if pi is None:
            message = f"No such payment_intent: '{p['payment_intent']}'"
            raise invalid(message, code="resource_missing", param="payment_intent")
        charge = self.charges.get(pi["latest_charge"] or "")
        if not charge or charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(
                "This PaymentIntent does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = _int(p, "amount", default=remaining)
        if amount <= 0 or amount > remaining:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large" if amount > 0 else "parameter_invalid_integer",
                param="amount",
            )
        refund = {**_base("re"), "object": "refund", "amount": amount, "charge": charge["id"]}
        refund |= {"currency": charge["currency"], "payment_intent": charge["payment_intent"]}
        refund |= {"status": self.next_refund_status, "failure_reason": None}
        refund |= {"reason": p.get("reason"), "metadata": p.get("metadata", {})}
        self.refunds[refund["id"]] = refund
        self._transaction("refund", -amount, charge["currency"], refund)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        self._emit("refund.created", refund)
        self._emit("charge.refunded", charge)
        return refund

    def _retrieve_refund(self, p: dict[str, Any], refund_id: str) -> dict[str, Any]:
        if refund_id not in self.refunds:
            raise _missing("refund", refund_id)
        return self.refunds[refund_id]

    def _retrieve_payment_method(self, p: dict[str, Any], pm_id: str) -> dict[str, Any]:
        if pm_id in TEST_PAYMENT_METHODS:
            return _payment_method_object(pm_id, pm_id, TEST_PAYMENT_METHODS[pm_id])
        if pm_id not in self.payment_methods:
            raise _missing("payment_method", pm_id)
        return self.payment_methods[pm_id]

    def wallet_payment_method(self, wallet: str, token: str = "pm_card_visa") -> str:
        """The id of a PaymentMethod made by the Payment Element's Apple Pay or Google Pay
        button (in the browser, with the publishable key): a card tokenised by the wallet."""
        with self._lock:
            pm = _payment_method_object(_new_id("pm"), token, TEST_PAYMENT_METHODS[token])
            dynamic = f"{secrets.randbelow(10_000):04d}"  # the device account number's
            pm["card"]["wallet"] = {"type": wallet, wallet: {}, "dynamic_last4": dynamic}
            self.payment_methods[pm["id"]] = pm
            self._cards[pm["id"]] = TEST_PAYMENT_METHODS[token]
            return pm["id"]

    # PaymentMethodDomains: what Stripe reports for each payment method on a domain.
    def _create_payment_method_domain(self, p: dict[str, Any]) -> dict[str, Any]:
        name = _required(p, "domain_name")
        if not _DOMAIN_NAME.fullmatch(name):
            raise invalid(
                f"'{name}' is not a valid domain name: give the host name only, without "
                "scheme, port or path.",
                param="domain_name",
            )
        if any(d["domain_name"] == name for d in self.payment_method_domains.values()):
            raise invalid(
                f"The domain {name} is already registered on this account.",
                code="resource_already_exists",
                param="domain_name",
            )
        domain = {**_base("pmd"), "object": "payment_method_domain", "domain_name": name}
        domain["enabled"] = p.get("enabled", "true") != "false"
        self.payment_method_domains[domain["id"]] = domain
        return self._check_domain(domain)

    def _list_payment_method_domains(self, p: dict[str, Any]) -> dict[str, Any]:
        wanted = {k: p[k] for k in ("domain_name", "enabled") if k in p}
        listed = {
            key: d
            for key, d in self.payment_method_domains.items()
            if all(str(d[k]).lower() == v for k, v in wanted.items())
        }
        return _page(p, listed, "/v1/payment_method_domains")

    def _retrieve_payment_method_domain(self, p: dict[str, Any], domain_id: str) -> dict[str, Any]:
        if domain_id not in self.payment_method_domains:
            raise _missing("payment_method_domain", domain_id)
        return self.payment_method_domains[domain_id]

    def _update_payment_method_domain(self, p: dict[str, Any], domain_id: str) -> dict[str, Any]:
        domain = self._retrieve_payment_method_domain(p, domain_id)
        if "enabled" in p:
            domain["enabled"] = p["enabled"] == "true"
        return domain

    def _validate_payment_method_domain(self, p: dict[str, Any], domain_id: str) -> dict[str, Any]:
        return self._check_domain(self._retrieve_payment_method_domain(p, domain_id))

    def _check_domain(self, domain: dict[str, Any]) -> dict[str, Any]:
        def status(error: str | None) -> dict[str, Any]:
            if error is None:
                return {"status": "active"}
            return {"status": "inactive", "status_details": {"error_message": error}}

        domain["apple_pay"] = status(self.apple_pay_error)
        domain["google_pay"] = domain["link"] = status(None)
        domain["paypal"] = status("PayPal is not enabled on this account.")
        return domain

    def _create_file(self, p: dict[str, Any]) -> dict[str, Any]:
        purpose = _required(p, "purpose")
        uploads = self._ctx.uploads if self._ctx else {}
        if "file" not in uploads:
            raise invalid("Missing required param: file.", code="parameter_missing", param="file")
        filename, data = uploads["file"]
        kind = next((t for magic, t in _FILE_TYPES.items() if data.startswith(magic)), None)
        if purpose == "dispute_evidence" and kind is None:
            raise invalid(
                "Dispute evidence must be a PDF, JPEG or PNG file.",
                code="file_invalid",
                param="file",
            )
        file = {**_base("file"), "object": "file", "purpose": purpose, "filename": filename}
        file |= {"size": len(data), "type": kind, "expires_at": None, "url": None}
        self.files[file["id"]] = file
        self.file_contents[file["id"]] = data
        return file

    def _retrieve_dispute(self, p: dict[str, Any], dispute_id: str) -> dict[str, Any]:
        if dispute_id not in self.disputes:
            raise _missing("dispute", dispute_id, param="dispute")
        return self.disputes[dispute_id]

    def _update_dispute(self, p: dict[str, Any], dispute_id: str) -> dict[str, Any]:
        dispute = self._retrieve_dispute(p, dispute_id)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            raise invalid(
                f"This dispute is already {dispute['status'].replace('_', ' ')}: its evidence "
                "can no longer be changed."
            )
        evidence = p.get("evidence", {})
        for name, value in evidence.items():
            if name in EVIDENCE_FILE_FIELDS and value:
                file = self.files.get(value)
                if file is None or file["purpose"] != "dispute_evidence":
                    message = f"No such file upload: '{value}'"
                    raise invalid(message, code="resource_missing", param=f"evidence[{name}]")
        dispute["evidence"] = {**dispute["evidence"], **evidence}
        dispute["evidence_details"]["has_evidence"] = True
        dispute["metadata"] = {**dispute["metadata"], **p.get("metadata", {})}
        if p.get("submit") != "true":
            self._emit("charge.dispute.updated", dispute)
            return dispute
        warning = dispute["status"].startswith("warning_")
        dispute["status"] = "warning_under_review" if warning else "under_review"
        dispute["evidence_details"]["submission_count"] += 1
        self._emit("charge.dispute.updated", dispute)
        answer = copy.deepcopy(dispute)
        text = " ".join(v for k, v in dispute["evidence"].items() if k not in EVIDENCE_FILE_FIELDS)
        if "winning_evidence" in text:  # decided "a moment later": after the answer's snapshot
            self.decide_dispute(dispute_id, won=True)
        elif "losing_evidence" in text:
            self.decide_dispute(dispute_id, won=False)
        return answer

    def _close_dispute(self, p: dict[str, Any], dispute_id: str) -> dict[str, Any]:
        dispute = self._retrieve_dispute(p, dispute_id)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            raise invalid(f"This dispute is already {dispute['status'].replace('_', ' ')}.")
        warning = dispute["status"].startswith("warning_")
        dispute["status"] = "warning_closed" if warning else "lost"
        self._emit("charge.dispute.closed", dispute)
        return dispute

    def _list_payouts(self, p: dict[str, Any]) -> dict[str, Any]:
        return _page(p, self.payouts, "/v1/payouts")

    def _list_balance_transactions(self, p: dict[str, Any]) -> dict[str, Any]:
        listed = self.balance_transactions
        if "payout" in p:
            if p["payout"] not in self.payouts:
                raise _missing("payout", p["payout"], param="payout")
            listed = {k: v for k, v in listed.items() if self.paid_out.get(k) == p["payout"]}
        page = _page(p, listed, "/v1/balance_transactions")
        if "data.source" in p.get("expand", []):
            for bt in page["data"]:
                bt["source"] = copy.deepcopy(self._object(bt["source"])) or bt["source"]
        return page

    # -- test helpers: what Stripe does on its own -----------------------------------------

    def decide_dispute(self, dispute_id: str, *, won: bool) -> None:
        """The bank decides: charge.dispute.closed (and funds_reinstated when won)."""
        with self._lock:
            dispute = self.disputes[dispute_id]
            dispute["status"] = "won" if won else "lost"
            self._emit("charge.dispute.closed", dispute)
            if won:
                charge = self.charges[dispute["charge"]]
                self._transaction("adjustment", dispute["amount"], charge["currency"], dispute)
                self._emit("charge.dispute.funds_reinstated", dispute)

    def pay_out(
        self, *, failure_code: str | None = None, created: int | None = None
    ) -> dict[str, Any]:
        """A payout of the balance not yet paid out: payout.created, then payout.paid, or
        payout.failed (the money comes back to the balance) when a failure_code is given."""
        with self._lock:
            unpaid = [bt for k, bt in self.balance_transactions.items() if k not in self.paid_out]
            currency = unpaid[0]["currency"] if unpaid else "usd"
            amount = sum(bt["net"] for bt in unpaid if bt["currency"] == currency)
            payout = {**_base("po", created), "object": "payout", "amount": amount}
            payout |= {"currency": currency, "automatic": True, "method": "standard"}
            payout |= {"arrival_date": payout["created"] + 2 * 86400, "type": "bank_account"}
            payout |= {"status": "pending", "failure_code": None, "failure_message": None}
            self.payouts[payout["id"]] = payout
            for bt in unpaid:
                if bt["currency"] == currency:
                    self.paid_out[bt["id"]] = payout["id"]
            bt = self._transaction("payout", -amount, currency, payout, created=created)
            self.paid_out[bt["id"]] = payout["id"]
            payout["balance_transaction"] = bt["id"]
            self._emit("payout.created", payout)
            if failure_code:
                payout.update(status="failed", failure_code=failure_code)
                payout["failure_message"] = "The bank account could not be found."
                self._emit("payout.failed", payout)
            else:
                payout["status"] = "paid"
                self._emit("payout.paid", payout)
            return payout

    def add_balance_transaction(
        self,
        type_: str,
        amount: int,
        *,
        currency: str = "usd",
        source: str | None = None,
        fee: int = 0,
        created: int | None = None,
    ) -> dict[str, Any]:
        """A movement of the balance made outside this API (a charge taken by another
        integration, an adjustment): its source is `source`, or a new charge id."""
        with self._lock:
            origin = {"id": source or _new_id("ch")}
            return self._transaction(type_, amount, currency, origin, fee=fee, created=created)

    # -- state changes ---------------------------------------------------------------------

    def _transaction(
        self,
        type_: str,
        amount: int,
        currency: str,
        source: dict[str, Any],
        *,
        fee: int = 0,
        created: int | None = None,
    ) -> dict[str, Any]:
        """A balance transaction (txn_...) for a change of the account's balance."""
        bt = {**_base("txn", created), "object": "balance_transaction", "type": type_}
        bt |= {"amount": amount, "fee": fee, "net": amount - fee, "currency": currency}
        bt |= {"source": source["id"], "status": "available", "description": None}
        bt |= {"available_on": bt["created"] + 2 * 86400, "reporting_category": type_}
        self.balance_transactions[bt["id"]] = bt
        return bt

    def _object(self, object_id: str) -> dict[str, Any] | None:
        stores = {"ch": self.charges, "re": self.refunds, "dp": self.disputes}
        stores |= {"po": self.payouts, "pi": self.payment_intents}
        return stores.get(object_id.split("_")[0], {}).get(object_id)

    def _confirm(self, pi: dict[str, Any], *, off_session: bool = False) -> None:
        if pi["payment_method"].startswith("ba_"):
            self._start_debit(pi)
            return
        card = self._cards[pi["payment_method"]]
        if off_session and card.three_d_secure and not card.decline:
            card = replace(
                card,
                decline=(
                    "authentication_required",
                    "authentication_required",
                    "Your card was declined. This transaction requires authentication.",
                    None,
                ),
            )
        if card.decline:
            code, decline_code, message, param = card.decline
            charge = self._new_charge(pi, failure=(code, message, decline_code))
            pm = copy.deepcopy(self.payment_methods[pi["payment_method"]])
            error = {"code": code, "decline_code": decline_code, "param": param}
            error |= {
                "charge": charge["id"],
                "doc_url": f"https://stripe.com/docs/error-codes/{code}",
            }
            last_error = {"type": "card_error", "message": message, **error, "payment_method": pm}
            pi.update(status="requires_payment_method", last_payment_error=last_error)
            self._emit("charge.failed", charge)
            self._emit("payment_intent.payment_failed", pi)
            snapshot = copy.deepcopy(pi)
            raise ApiError(
                402, "card_error", message, **error, payment_intent=snapshot, payment_method=pm
            )
        if card.three_d_secure:  # Stripe.js completes it in the browser with the client_secret
            action = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            }
            pi.update(status="requires_action", next_action=action)
            self._emit("payment_intent.requires_action", pi)
            return
        self._charge(pi)

    def _charge(self, pi: dict[str, Any]) -> None:
        if pi.get("setup_future_usage") and pi["customer"] is not None:
            # As Stripe: a PaymentIntent with setup_future_usage attaches its PaymentMethod to
            # the PaymentIntent's customer when it succeeds.
            self.payment_methods[pi["payment_method"]]["customer"] = pi["customer"]
        charge = self._new_charge(pi)
        self._emit("charge.succeeded", charge)
        if pi["capture_method"] == "manual":
            pi.update(status="requires_capture", amount_capturable=pi["amount"])
            self._emit("payment_intent.amount_capturable_updated", pi)
        else:
            pi.update(status="succeeded", amount_received=pi["amount"])
            self._charge_transaction(charge, pi["amount"])
            self._emit("payment_intent.succeeded", pi)
            self._maybe_dispute(pi, charge)

    def _charge_transaction(self, charge: dict[str, Any], amount: int) -> None:
        fee = (amount * 29 + 500) // 1000 + 30  # 2.9% + 30, rounded half up
        self._transaction("charge", amount, charge["currency"], charge, fee=fee)

    def _new_charge(self, pi: dict[str, Any], failure: tuple | None = None) -> dict[str, Any]:
        captured = failure is None and pi["capture_method"] != "manual"
        details = self.payment_methods[pi["payment_method"]]["card"]
        brand = details["brand"]
        charge = {**_base("ch"), "object": "charge", "amount": pi["amount"], "captured": captured}
        charge |= {"amount_captured": pi["amount"] if captured else 0, "amount_refunded": 0}
        charge |= {"currency": pi["currency"], "disputed": False, "refunded": False}
        charge |= {"payment_intent": pi["id"], "payment_method": pi["payment_method"]}
        charge |= {"status": "failed" if failure else "succeeded", "paid": failure is None}
        charge["failure_code"], charge["failure_message"], reason = failure or (None, None, None)
        charge["outcome"] = {
            "type": "issuer_declined" if failure else "authorized",
            "reason": reason,
        }
        charge["payment_method_details"] = {"type": "card", "card": {**details, "network": brand}}
        self.charges[charge["id"]] = charge
        pi["latest_charge"] = charge["id"]
        return charge

    def _maybe_dispute(self, pi: dict[str, Any], charge: dict[str, Any]) -> None:
        if not self._cards[pi["payment_method"]].dispute:
            return
        dispute = {**_base("dp"), "object": "dispute", "amount": charge["amount_captured"]}
        dispute |= {"charge": charge["id"], "payment_intent": pi["id"], "currency": pi["currency"]}
        dispute |= {"reason": "fraudulent", "status": "needs_response", "evidence": {}}
        dispute["evidence_details"] = {
            "due_by": dispute["created"] + 21 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.disputes[dispute["id"]] = dispute
        charge["disputed"] = True
        self._emit("charge.dispute.created", dispute)
        amount = dispute["amount"]
        self._transaction("adjustment", -amount, pi["currency"], dispute, fee=DISPUTE_FEE)
        self._emit("charge.dispute.funds_withdrawn", dispute)

    # -- bank debits -------------------------------------------------------------------------

    def bank_token(self, account_number: str = "000123456789") -> str:
        """A one-use Stripe bank account token for a test account, as Plaid's processor step
        hands one over."""
        if account_number not in TEST_BANK_ACCOUNTS:
            raise ValueError(f"not a Stripe test bank account: {account_number}")
        token = _new_id("btok")
        with self._lock:
            self._bank_tokens[token] = account_number
        return token

    def _bank_account(self, token: str, customer_id: str) -> dict[str, Any]:
        if not re.fullmatch(r"btok_[A-Za-z0-9]+", token) or token in self._used_tokens():
            raise invalid(
                f"No such token: '{token}' (a bank account token is used once)",
                code="resource_missing",
                param="source",
            )
        number = self._bank_tokens.pop(token, "000123456789")
        ba = {**_base("ba"), "object": "bank_account", "account_holder_type": "individual"}
        ba |= {"bank_name": "STRIPE TEST BANK", "country": "US", "currency": "usd"}
        ba |= {"last4": number[-4:], "routing_number": "110000000", "status": "verified"}
        ba |= {"customer": customer_id, "fingerprint": secrets.token_hex(8), "_token": token}
        ba["_number"] = number
        self.bank_accounts[ba["id"]] = ba
        return ba

    def _used_tokens(self) -> set[str]:
        return {ba["_token"] for ba in self.bank_accounts.values()}

    def _start_debit(self, pi: dict[str, Any]) -> None:
        ba = self.bank_accounts[pi["payment_method"]]
        mandate = {**_base("mandate"), "object": "mandate", "status": "active"}
        mandate |= {"payment_method": ba["id"], "type": "single_use"}
        mandate["customer_acceptance"] = pi.pop("_acceptance")
        self.mandates[mandate["id"]] = mandate
        charge = {**_base("ch"), "object": "charge", "amount": pi["amount"], "captured": True}
        charge |= {"amount_captured": pi["amount"], "amount_refunded": 0}
        charge |= {"currency": pi["currency"], "disputed": False, "refunded": False}
        charge |= {"payment_intent": pi["id"], "payment_method": ba["id"], "paid": False}
        charge |= {"status": "pending", "failure_code": None, "failure_message": None}
        charge["outcome"] = {"type": "authorized", "reason": None}
        account = {"bank_name": ba["bank_name"], "last4": ba["last4"], "mandate": mandate["id"]}
        account |= {"account_holder_type": "individual", "account_type": "checking"}
        account["routing_number"] = ba["routing_number"]
        charge["payment_method_details"] = {"type": "us_bank_account", "us_bank_account": account}
        self.charges[charge["id"]] = charge
        pi.update(latest_charge=charge["id"], status="processing")
        self._emit("charge.pending", charge)
        self._emit("payment_intent.processing", pi)

    def settle_bank(self, intent_id: str) -> None:
        """The bank's answer to a processing debit, by its test account's number."""
        with self._lock:
            pi = self._intent(intent_id)
            if pi["status"] != "processing":
                raise ValueError(f"{intent_id} is {pi['status']}, not processing")
            charge = self.charges[pi["latest_charge"]]
            failure = TEST_BANK_ACCOUNTS[self.bank_accounts[pi["payment_method"]]["_number"]]
            if failure:
                self._fail_debit(pi, charge, failure)
                return
            charge.update(status="succeeded", paid=True)
            self._emit("charge.succeeded", charge)
            pi.update(status="succeeded", amount_received=pi["amount"])
            self._charge_transaction(charge, pi["amount"])
            self._emit("payment_intent.succeeded", pi)

    def return_bank(self, intent_id: str, failure_code: str = "insufficient_funds") -> None:
        """The customer's bank returns a succeeded debit (an ACH return)."""
        with self._lock:
            pi = self._intent(intent_id)
            if pi["status"] != "succeeded":
                raise ValueError(f"{intent_id} is {pi['status']}, not succeeded")
            self._fail_debit(pi, self.charges[pi["latest_charge"]], failure_code)

    def _fail_debit(self, pi: dict[str, Any], charge: dict[str, Any], code: str) -> None:
        message = f"The customer's bank could not debit the account ({code})."
        charge.update(status="failed", paid=False, failure_code=code, failure_message=message)
        self._emit("charge.failed", charge)
        error = {"type": "invalid_request_error", "code": code, "message": message}
        pi.update(status="requires_payment_method", last_payment_error=error, amount_received=0)
        self._emit("payment_intent.payment_failed", pi)

    def _payment_method(self, token: str) -> dict[str, Any]:
        if token in self.payment_methods:
            return self.payment_methods[token]
        if token not in TEST_PAYMENT_METHODS:
            message = f"No such PaymentMethod: '{token}'"
            raise invalid(message, code="resource_missing", param="payment_method")
        card = TEST_PAYMENT_METHODS[token]
        pm = _payment_method_object(_new_id("pm"), token, card)
        self.payment_methods[pm["id"]] = pm
        self._cards[pm["id"]] = card
        return pm

    def _intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.payment_intents:
            raise _missing("payment_intent", intent_id, param="intent")
        return self.payment_intents[intent_id]

    def _unexpected_state(self, pi: dict[str, Any], verb: str, allowed: str) -> ApiError:
        message = (
            f"This PaymentIntent could not be {verb} because it has a status of {pi['status']}. "
            f"Only a PaymentIntent with one of the following statuses may be {verb}: {allowed}."
        )
        return invalid(
            message, code="payment_intent_unexpected_state", payment_intent=copy.deepcopy(pi)
        )

    def _emit(self, type_: str, obj: dict[str, Any]) -> None:
        ctx = self._ctx
        event = {**_base("evt"), "object": "event", "type": type_, "pending_webhooks": 1}
        event["data"] = {"object": _public(obj)}
        event["request"] = {
            "id": ctx.request_id if ctx else None,
            "idempotency_key": ctx.idempotency_key if ctx else None,
        }
        self.events.append(event)

    def _render(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        out = _public(obj)
        stores = {"ch": self.charges, "pi": self.payment_intents, "pm": self.payment_methods}
        stores["ba"] = self.bank_accounts
        for path in expand:
            head = path.split(".")[0]
            ref = out.get(head)
            if isinstance(ref, str) and ref in stores.get(ref.split("_")[0], {}):
                out[head] = _public(stores[ref.split("_")[0]][ref])
        return out


_ROUTES = [
    ("POST", r"/v1/payment_intents", "_create_payment_intent"),
    ("GET", r"/v1/payment_intents/([^/]+)", "_retrieve_payment_intent"),
    ("POST", r"/v1/payment_intents/([^/]+)/capture", "_capture"),
    ("POST", r"/v1/payment_intents/([^/]+)/cancel", "_cancel"),
    ("POST", r"/v1/refunds", "_create_refund"),
    ("GET", r"/v1/refunds/([^/]+)", "_retrieve_refund"),
    ("GET", r"/v1/payment_methods/([^/]+)", "_retrieve_payment_method"),
    ("POST", r"/v1/payment_methods/([^/]+)/attach", "_attach_payment_method"),
    ("POST", r"/v1/payment_methods/([^/]+)/detach", "_detach_payment_method"),
    ("POST", r"/v1/customers", "_create_customer"),
    ("POST", r"/v1/setup_intents", "_create_setup_intent"),
    ("GET", r"/v1/setup_intents/([^/]+)", "_retrieve_setup_intent"),
    ("POST", r"/v1/files", "_create_file"),
    ("GET", r"/v1/disputes/([^/]+)", "_retrieve_dispute"),
    ("POST", r"/v1/disputes/([^/]+)", "_update_dispute"),
    ("POST", r"/v1/disputes/([^/]+)/close", "_close_dispute"),
    ("GET", r"/v1/payouts", "_list_payouts"),
    ("GET", r"/v1/balance_transactions", "_list_balance_transactions"),
    ("POST", r"/v1/payment_method_domains", "_create_payment_method_domain"),
    ("GET", r"/v1/payment_method_domains", "_list_payment_method_domains"),
    ("GET", r"/v1/payment_method_domains/([^/]+)", "_retrieve_payment_method_domain"),
    ("POST", r"/v1/payment_method_domains/([^/]+)", "_update_payment_method_domain"),
    ("POST", r"/v1/payment_method_domains/([^/]+)/validate", "_validate_payment_method_domain"),
]
# A bare host name, as Stripe takes for a payment method domain.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests session expects
    timeout = 30  # idle keep-alive connections end eventually
    fake: FakeStripe

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self.fake._serve(self)

    do_POST = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


def decode_form(raw: str) -> dict[str, Any]:
    """Stripe's form encoding (a[b]=1, c[0]=x) back into dicts and lists; values stay strings."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def decode_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """A multipart/form-data body: its plain fields (as decode_form gives them) and its files."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: list[tuple[str, str]] = []
    uploads: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields.append((str(name), data.decode()))
        else:
            uploads[str(name)] = (filename, data)
    params = decode_form(urlencode(fields))  # names keep their brackets: a[b] nests
    for name, (filename, data) in uploads.items():
        params[name] = {"filename": filename, "size": str(len(data))}
        params[name]["sha256"] = hashlib.sha256(data).hexdigest()
    return params, uploads


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored object without the fake's own bookkeeping (keys starting with _)."""
    return {key: copy.deepcopy(value) for key, value in obj.items() if not key.startswith("_")}


def _page(p: dict[str, Any], objects: dict[str, dict[str, Any]], url: str) -> dict[str, Any]:
    """One page of a Stripe list: newest first, filtered by created[...], after starting_after."""
    limit = _int(p, "limit", default=10)
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", param="limit")
    ops = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
    created = p.get("created", {})
    if isinstance(created, str):  # created=<exact time>
        created = {"gte": created, "lte": created}
    newest_first = [
        o
        for o in reversed(objects.values())
        if all(ops[op](o["created"], int(value)) for op, value in created.items())
    ]
    after = p.get("starting_after")
    if after is not None:
        ids = [o["id"] for o in newest_first]
        if after not in ids:
            raise invalid(f"No such object: '{after}'", param="starting_after")
        newest_first = newest_first[ids.index(after) + 1 :]
    data = copy.deepcopy(newest_first[:limit])
    return {"object": "list", "data": data, "has_more": len(newest_first) > limit, "url": url}


def _listify(node: Any, key: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: v if k == "metadata" else _listify(v, k) for k, v in node.items()}
    if items and key != "metadata" and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _write(handler: _Handler, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    data = json.dumps(body).encode()
    try:
        handler.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:  # the client hung up (it timed out)
        handler.close_connection = True


def _payment_method_object(pm_id: str, token: str, card: TestCard) -> dict[str, Any]:
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]  # one per test card number
    details = {"brand": card.brand, "last4": card.last4, "country": card.country}
    details |= {"exp_month": 12, "exp_year": time.gmtime().tm_year + 3, "funding": "credit"}
    details |= {"fingerprint": fingerprint, "checks": {"cvc_check": "pass"}}
    pm = {**_base("pm"), "id": pm_id, "object": "payment_method", "type": "card", "card": details}
    return pm | {"customer": None, "billing_details": {"email": None, "name": None}}


def _base(prefix: str, created: int | None = None) -> dict[str, Any]:
    when = int(time.time()) if created is None else created
    return {"id": _new_id(prefix), "created": when, "livemode": False, "metadata": {}}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _missing(kind: str, object_id: str, param: str = "id") -> ApiError:
    message = f"No such {kind}: '{object_id}'"
    return ApiError(404, "invalid_request_error", message, code="resource_missing", param=param)


def _required(p: dict[str, Any], name: str) -> str:
    if name not in p:
        raise invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
    return p[name]


def _int(p: dict[str, Any], name: str, default: int | None = None) -> int:
    if name not in p and default is not None:
        return default
    value = _required(p, name)
    if not re.fullmatch(r"-?\d+", value):
        raise invalid("Invalid integer: " + value, code="parameter_invalid_integer", param=name)
    return int(value)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
