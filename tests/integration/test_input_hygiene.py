"""Every text input of /api is valid or refused: the sweep over every route, on both databases.

For every operation of /api/openapi.json, and the routes under /api that the schema leaves out
(the portal's downloads, the docs), this sends NUL, lone UTF-16 surrogates, control characters
(C0, DEL, C1), invalid UTF-8 and deep nesting in the body, the path and the query string, with
valid credentials (API key, portal session, Stripe signature) and without, on SQLite and on
PostgreSQL. Every answer must be a refusal in the API's error shape (400 or 422; 404 allowed for
a path id), never a 5xx, and no table may gain or lose a row.

It complements test_api_schemathesis.py, which explores the schema's valid and invalid values with
Hypothesis on SQLite (and never generates lone surrogates): this sweep is deterministic and
exhaustive over the characters that PostgreSQL, our JSON encoder or a reader cannot take.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import SQLModel

from backend.core.db import session_scope
from backend.services.billing import links
from backend.services.context import Scope
from backend.services.identity import accounts, sessions
from backend.services.payments import gateway_configs
from tests.integration import webhook_signing as ws

PROCESSOR_SECRET = "whsec_" + "e5" * 16

# Text a JSON string may carry as \u escapes: NUL, lone surrogates (high and low), C0, DEL, C1.
POISONS = ["\x00", "a\x00b", "\ud800", "x\udfff", "\x01", "\x1b[2J", "\x7f", "\x85"]
# Bytes no JSON text may hold: invalid UTF-8, an encoded surrogate, an overlong NUL, a raw NUL.
RAW_POISONS = [b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b"\x00"]
PATH_POISONS = [quote(p.encode("utf-8", "surrogatepass"), safe="") for p in POISONS] + [
    "%FF",
    "%ED%A0%80",
    "%C0%80",
]
DEPTHS = [33, 100_000]  # one past the limit; far past any parser's recursion limit

# A request that reaches its handler, per operation: the sweep poisons one part of it at a time.
GOOD_BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/health"): None,
    ("POST", "/api/orders"): {
        "amountCents": 1000,
        "currency": "USD",
        "reference": "R-1",
        "customerEmail": "ann@example.com",
        "metadata": {"k": "v"},
    },
    ("POST", "/api/payments/authorize"): {
        "amountCents": 1000,
        "currency": "USD",
        "paymentMethod": {"type": "card", "token": "pm_card_visa"},
        "customerEmail": "ann@example.com",
        "description": "Tea",
        "billingCountry": "US",
        "metadata": {"k": "v"},
    },
    ("POST", "/api/payments/{paymentId}/capture"): {"amountCents": 100},
    ("POST", "/api/payments/{paymentId}/refund"): {"amountCents": 100, "reason": "duplicate"},
    ("POST", "/api/payments/{paymentId}/void"): {},
    ("POST", "/api/payments/{paymentId}/review"): {"outcome": "approved"},
    ("POST", "/api/payments/{paymentId}/confirm"): {"approved": False},
    ("GET", "/api/payments/{paymentId}"): None,
    ("GET", "/api/orders/{orderId}/payments"): None,
    ("GET", "/api/webhook_endpoints"): None,
    ("POST", "/api/webhook_endpoints"): {
        "url": "http://127.0.0.1:9/hook",
        "enabledEvents": ["payment.succeeded"],
        "description": "Orders",
    },
    ("GET", "/api/webhook_endpoints/{endpointId}"): None,
    ("POST", "/api/webhook_endpoints/{endpointId}"): {
        "url": "http://127.0.0.1:9/other",
        "enabledEvents": ["*"],
        "description": "All",
        "disabled": False,
    },
    ("DELETE", "/api/webhook_endpoints/{endpointId}"): None,
    ("POST", "/api/webhook_endpoints/{endpointId}/roll_secret"): {"expiresInHours": 1},
    ("POST", "/api/webhook_endpoints/{endpointId}/test"): {},
    ("GET", "/api/webhook_endpoints/{endpointId}/deliveries"): None,
    ("POST", "/api/webhook_deliveries/{deliveryId}/redeliver"): {},
    ("POST", "/api/webhook_endpoints/{endpointId}/redeliver_failed"): {
        "since": "2024-01-01T00:00:00Z"
    },
    ("GET", "/api/webhooks/health"): None,
    ("POST", "/api/checkout/sessions"): {
        "lineItems": [{"name": "Tea", "quantity": 1, "unitAmountCents": 500}],
        "currency": "USD",
        "customerEmail": "ann@example.com",
        "successUrl": "https://shop.example/ok",
        "cancelUrl": "https://shop.example/no",
        "metadata": {"k": "v"},
    },
    ("GET", "/api/checkout/sessions/{sessionId}"): None,
    ("POST", "/api/checkout/sessions/{sessionId}/expire"): {},
    ("GET", "/api/checkout/logos/{logoId}"): None,
    ("GET", "/api/balance"): None,
    ("GET", "/api/balance_transactions"): None,
    ("GET", "/api/payouts"): None,
    ("GET", "/api/payouts/{payoutId}"): None,
    ("POST", "/api/payouts"): {"currency": "USD", "amountCents": 100},
    ("POST", "/api/payouts/{payoutId}/cancel"): {},
    ("POST", "/api/customers"): {
        "email": "ann@example.com",
        "name": "Ann",
        "phone": "+1 555 0100",
        "address": {
            "line1": "1 Main St",
            "line2": "Flat 2",
            "city": "Springfield",
            "state": "IL",
            "postalCode": "62701",
            "country": "US",
        },
        "metadata": {"k": "v"},
    },
    ("GET", "/api/customers"): None,
    ("GET", "/api/customers/{customerId}"): None,
    ("DELETE", "/api/customers/{customerId}"): None,
    ("POST", "/api/customers/{customerId}/payment_methods"): {
        "type": "card",
        "token": "pm_card_visa",
        "gatewayType": "sandbox",
    },
    ("GET", "/api/customers/{customerId}/payment_methods"): None,
    ("DELETE", "/api/customers/{customerId}/payment_methods/{paymentMethodId}"): None,
    ("POST", "/api/products"): {
        "name": "Pro plan",
        "description": "For teams",
        "active": True,
        "metadata": {"k": "v"},
    },
    ("GET", "/api/products"): None,
    ("GET", "/api/products/{productId}"): None,
    ("POST", "/api/products/{productId}"): {
        "name": "Team plan",
        "description": "For larger teams",
        "active": True,
        "metadata": {"k": "v"},
    },
    ("GET", "/api/prices"): None,
    ("GET", "/api/prices/{priceId}"): None,
    ("POST", "/api/prices/{priceId}"): {
        "active": True,
        "nickname": "Monthly",
        "metadata": {"k": "v"},
    },
    ("POST", "/api/test_clocks"): {"frozenTime": 1_767_225_600, "name": "Renewals"},
    ("GET", "/api/test_clocks"): None,
    ("GET", "/api/test_clocks/{clockId}"): None,
    ("DELETE", "/api/test_clocks/{clockId}"): None,
    ("POST", "/api/test_clocks/{clockId}/advance"): {"frozenTime": 1_798_761_600},
    ("POST", "/api/subscriptions"): {
        "customerId": "cus_filled_in",
        "items": [{"priceId": "price_filled_in", "quantity": 2}],
        "metadata": {"note": "text"},
    },
    ("GET", "/api/subscriptions"): None,
    ("GET", "/api/subscriptions/{subscriptionId}"): None,
    ("POST", "/api/subscriptions/{subscriptionId}"): {"metadata": {"note": "text"}},
    ("POST", "/api/subscriptions/{subscriptionId}/cancel"): {"atPeriodEnd": True},
    ("GET", "/api/invoices"): None,
    ("GET", "/api/invoices/{invoiceId}"): None,
    ("POST", "/api/invoices/{invoiceId}/pay"): {"paymentMethod": "pm_missing"},
    ("POST", "/api/invoices/{invoiceId}/void"): {},
    ("POST", "/api/invoices/{invoiceId}/mark_uncollectible"): {},
    ("GET", "/api/billing/settings"): None,
    ("GET", "/api/invoices/{invoiceId}/pdf"): None,
    ("GET", "/api/invoices/hosted/{token}/pdf"): None,
    ("POST", "/api/billing_portal/sessions"): {
        "customerId": "cus_filled_in",
        "returnUrl": "https://shop.test/account",
    },
    ("POST", "/api/billing/settings"): {"retryDays": [3, 5, 7], "dunningEnd": "cancel"},
}
GOOD_BODIES[("POST", "/api/customers/{customerId}")] = {
    **GOOD_BODIES[("POST", "/api/customers")],  # type: ignore[dict-item]
    "defaultPaymentMethod": "pm_missing",
}
GOOD_BODIES[("POST", "/api/payments/charge")] = GOOD_BODIES[("POST", "/api/payments/authorize")]
GOOD_BODIES[("POST", "/api/prices")] = {
    "productId": "prod_filled_in_by_populate",
    "unitAmountCents": 1500,
    "currency": "USD",
    "recurring": {"interval": "month", "intervalCount": 3},
    "nickname": "Quarterly",
    "metadata": {"k": "v"},
}
GOOD_BODIES[("POST", "/api/session")] = {"grant": "not-a-grant", "next": "/dashboard"}
GOOD_BODIES[("POST", "/api/session/sign-out")] = {}
# The test approval page's buttons send no body; a body's unclean text is refused all the same.
GOOD_BODIES[("POST", "/api/test-approval/{paymentId}/approve")] = {}
GOOD_BODIES[("POST", "/api/test-approval/{paymentId}/cancel")] = {}
# Signed with the route's secret when authenticated: the checks after the signature's are reached.
SIGNED = ("/api/webhooks/stripe", "/api/webhooks/stripe/{processor_id}")
GOOD_BODIES[("POST", SIGNED[0])] = GOOD_BODIES[("POST", SIGNED[1])] = {
    "id": "evt_hygiene",
    "object": "event",
    "type": "payment_intent.succeeded",
    "created": 1_700_000_000,
    "livemode": False,
    "data": {"object": {"id": "pi_1", "description": "Tea", "metadata": {"k": "v"}}},
}
# PayPal's events: their text is checked before PayPal is asked to confirm them (the probes'
# processor id is a Stripe one, so a clean body finds no PayPal processor: 404).
GOOD_BODIES[("POST", "/api/webhooks/paypal/{processor_id}")] = {
    "id": "WH-hygiene",
    "event_type": "PAYMENT.CAPTURE.COMPLETED",
    "create_time": "2026-01-01T00:00:00Z",
    "resource": {"id": "CAP1", "custom_id": "Tea", "amount": {"value": "1.00"}},
}
# Routes under /api that the schema leaves out, with their query parameters.
HIDDEN_ROUTES: dict[tuple[str, str], list[str]] = {
    ("GET", "/api/openapi.json"): [],
    ("GET", "/api/docs"): [],
    ("GET", "/api/docs/init.js"): [],
    ("GET", "/api/portal/exports/payments.csv"): ["q", "status", "currency", "from", "to"],
    ("GET", "/api/portal/exports/reconciliation.csv"): [],
    ("GET", "/api/portal/exports/balance_transactions.csv"): ["type", "currency", "payout"],
    ("GET", "/api/portal/statements/{month}.pdf"): [],
    ("GET", "/api/portal/statements/{month}.csv"): [],
    ("GET", "/api/portal/disputes/{dispute_id}/evidence/{file_id}"): [],
    ("GET", "/api/portal/audit-log.csv"): ["actor", "action", "object_type", "from", "to"],
    ("POST", "/api/session"): [],
    ("POST", "/api/session/sign-out"): [],
    # The test approval page of a payment waiting for its customer (backend.api.routes).
    ("GET", "/api/test-approval/{paymentId}"): [],
    ("POST", "/api/test-approval/{paymentId}/approve"): [],
    ("POST", "/api/test-approval/{paymentId}/cancel"): [],
}


@dataclass
class World:
    client: TestClient
    key: str
    session_token: str
    path_ids: dict[str, str]
    secrets: dict[str, str]  # signing secret per signed route
    queries: dict[tuple[str, str], list[str]] = field(default_factory=dict)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One application per database for the whole module, with one object of each kind."""
    from backend.api import create_app
    from backend.core.db import get_engine
    from tests.conftest import _reset_caches

    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_migrated_sqlite_template")
        path = tmp_path_factory.mktemp("hygiene") / "app.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("_migrated_postgres")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("STRIPE_WEBHOOK_SECRET", ws.SECRET)
        env.setenv("WEBHOOKS_ALLOW_LOOPBACK", "true")
        env.setenv("API_RATE_LIMIT", "1000000/second")
        env.delenv("REDIS_URL", raising=False)
        env.delenv("STRIPE_SECRET_KEY", raising=False)
        _reset_caches()
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield _populate(client)
        get_engine().dispose()
        _reset_caches()


def _populate(client: TestClient) -> World:
    suffix = hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:10]
    with session_scope() as db:
        created = accounts.create_merchant(
            db, email=f"hygiene-{suffix}@shop.test", password="a long passphrase 1"
        )
        token, _ = sessions.start_session(
            db, user_id=created.user.id, merchant_id=created.merchant.id
        )
        # The processor belongs to another merchant, so no charge of this one is routed to it.
        other = accounts.create_merchant(
            db, email=f"other-{suffix}@shop.test", password="a long passphrase 1"
        )
        processor = gateway_configs.add(
            db,
            Scope(other.merchant.id, False),
            gateway="stripe",
            secret_key="sk_test_" + "Own1" * 6,
            webhook_secret=PROCESSOR_SECRET,
        )
    key = created.test_secret_key
    auth = {"Authorization": f"Bearer {key}"}

    def made(path: str, body: dict[str, Any], field_name: str) -> str:
        response = client.post(path, json=body, headers=auth)
        assert response.status_code in (200, 201), response.text
        return response.json()[field_name]["id"]

    order_id = made("/api/orders", {"amountCents": 1000, "currency": "USD"}, "order")
    customer_id = made("/api/customers", {"email": "cy@example.com"}, "customer")
    card_id = made(
        f"/api/customers/{customer_id}/payment_methods",
        {"type": "card", "token": "pm_card_visa"},
        "paymentMethod",
    )
    payment_id = made(
        "/api/payments/charge",
        {"orderId": order_id, "paymentMethod": {"type": "card", "token": "pm_card_visa"}},
        "payment",
    )
    product_id = made("/api/products", {"name": "Tea club"}, "product")
    # The price's good body names a real product, so the sweep reaches the handler.
    GOOD_BODIES[("POST", "/api/prices")]["productId"] = product_id  # type: ignore[index]
    price_id = made("/api/prices", GOOD_BODIES[("POST", "/api/prices")], "price")  # type: ignore[arg-type]
    clock_id = made("/api/test_clocks", {"frozenTime": 1_767_225_600}, "testClock")
    subscribing = GOOD_BODIES[("POST", "/api/subscriptions")]
    subscribing["customerId"] = customer_id  # type: ignore[index]
    subscribing["items"][0]["priceId"] = price_id  # type: ignore[index]
    GOOD_BODIES[("POST", "/api/billing_portal/sessions")]["customerId"] = customer_id  # type: ignore[index]
    subscribed = client.post("/api/subscriptions", json=subscribing, headers=auth)
    assert subscribed.status_code == 201, subscribed.text
    subscription = subscribed.json()["subscription"]
    return World(
        client=client,
        key=key,
        session_token=token,
        path_ids={
            "productId": product_id,
            "priceId": price_id,
            "clockId": clock_id,
            "subscriptionId": subscription["id"],
            "invoiceId": subscription["latestInvoice"],
            "token": links.invoice_token(subscription["latestInvoice"]),
            "paymentId": payment_id,
            "orderId": order_id,
            "endpointId": made(
                "/api/webhook_endpoints",
                GOOD_BODIES[("POST", "/api/webhook_endpoints")],
                "endpoint",
            ),
            "sessionId": made(
                "/api/checkout/sessions", GOOD_BODIES[("POST", "/api/checkout/sessions")], "session"
            ),
            "customerId": customer_id,
            "paymentMethodId": card_id,
            "deliveryId": "whd_missing",
            "payoutId": "po_missing",
            "logoId": "logo_missing.png",
            "processor_id": processor.id,
            "month": "2024-01",
            "dispute_id": "dp_missing",
            "file_id": "file_missing",
        },
        secrets={SIGNED[0]: ws.SECRET, SIGNED[1]: PROCESSOR_SECRET},
    )


# --- building the poisoned requests -------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    template: str
    url: str
    body: bytes | None
    allowed: frozenset[int]


def operations(world: World) -> dict[tuple[str, str], list[str]]:
    """(method, path template) -> its query parameter names: the schema's operations and the
    hidden routes. Fails when the app has a route this module has no request for."""
    schema = world.client.get("/api/openapi.json").json()
    found: dict[tuple[str, str], list[str]] = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            found[(method.upper(), path)] = [p["name"] for p in params if p["in"] == "query"]
    missing = set(found) - set(GOOD_BODIES)
    assert not missing, f"add a good request for {sorted(missing)}"
    routes = {
        (method, route.path)
        for route in iter_route_contexts(world.client.app.routes)  # type: ignore[attr-defined]
        if (route.path or "").startswith("/api")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert len(routes) > len(found)
    unswept = routes - set(found) - set(HIDDEN_ROUTES)
    assert not unswept, f"add {sorted(unswept)} to HIDDEN_ROUTES"
    return {**found, **HIDDEN_ROUTES}


def fill(template: str, ids: dict[str, str], poisoned: str | None = None, value: str = "") -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return value if name == poisoned else quote(ids[name], safe="")

    return re.sub(r"\{(\w+)\}", one, template)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, node) of a JSON value, containers included."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))


def replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return copy


def with_key(body: Any, path: tuple[Any, ...], key: str) -> Any:
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path:
        node = node[part]
    node[key] = "v"
    return copy


MARK = "\ue000mark\ue000"


def body_poisons(good: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    for path, node in leaves(good):
        where = ".".join(map(str, path)) or "body"
        if isinstance(node, str):
            for poison in POISONS:
                yield f"{where}={poison!r}", json.dumps(replaced(good, path, poison)).encode()
            marked = json.dumps(replaced(good, path, MARK), ensure_ascii=False).encode()
            for raw in RAW_POISONS:
                yield f"{where}=raw {raw!r}", marked.replace(MARK.encode(), raw)
        if isinstance(node, dict):
            for poison in POISONS:
                yield f"{where} key {poison!r}", json.dumps(with_key(good, path, poison)).encode()
        if path and not isinstance(node, dict | list):
            for depth in DEPTHS:
                deep = json.dumps(replaced(good, path, "@")).replace(
                    '"@"', "[" * depth + "]" * depth
                )
                yield f"{where} nested {depth}", deep.encode()
    for depth in DEPTHS:
        yield f"body nested {depth}", b"[" * depth + b"]" * depth


def probes(world: World) -> Iterator[Probe]:
    body_refusal = frozenset({400, 422})
    for (method, template), query_names in operations(world).items():
        good = GOOD_BODIES.get((method, template))
        clean_url = fill(template, world.path_ids)
        for name in re.findall(r"\{(\w+)\}", template):
            for poison in PATH_POISONS:
                url = fill(template, world.path_ids, name, poison)
                yield Probe(
                    f"path {name}={poison}", method, template, url, None, frozenset({400, 404})
                )
        for name in [*query_names, "unknown"]:
            for poison in PATH_POISONS:
                url = f"{clean_url}?{name}={poison}"
                yield Probe(f"query {name}={poison}", method, template, url, None, body_refusal)
        for poison in PATH_POISONS[:3]:
            url = f"{clean_url}?{poison}=1"
            yield Probe(f"query key {poison}", method, template, url, None, body_refusal)
        if method in ("POST", "PUT", "PATCH"):
            assert good is not None
            for label, body in body_poisons(good):
                yield Probe(f"body {label}", method, template, clean_url, body, body_refusal)


def send(world: World, probe: Probe, *, authenticated: bool) -> Any:
    headers: dict[str, str] = {"Content-Type": "application/json"}
    cookies: dict[str, str] = {}
    if authenticated:
        headers["Authorization"] = f"Bearer {world.key}"
        cookies[sessions.COOKIE_NAME] = world.session_token
        secret = world.secrets.get(probe.template)
        if secret is not None and probe.body is not None:
            timestamp = int(time.time())
            mac = hmac.new(
                secret.encode(), f"{timestamp}.".encode() + probe.body, hashlib.sha256
            ).hexdigest()
            headers["Stripe-Signature"] = f"t={timestamp},v1={mac}"
    world.client.cookies.clear()
    for name, value in cookies.items():
        world.client.cookies.set(name, value)
    return world.client.request(probe.method, probe.url, content=probe.body, headers=headers)


def row_counts() -> dict[str, int]:
    with session_scope(readonly=True) as db:
        return {
            table.name: db.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def problem(probe: Probe, response: Any, *, signed: bool) -> str | None:
    if response.status_code not in probe.allowed:
        return f"{response.status_code}: {response.text[:200]}"
    try:
        answer = response.json()
    except ValueError:
        return f"{response.status_code} not JSON: {response.text[:100]}"
    error = answer.get("error") if isinstance(answer, dict) else None
    if answer.get("success") is not False or not isinstance(error, dict):
        return f"not the error shape: {answer}"
    if not {"code", "message", "param"} <= set(error) or not error["message"]:
        return f"not the error shape: {answer}"
    if signed and error["code"].startswith("signature"):
        return f"refused for its signature, not its text: {answer}"
    return None


@pytest.mark.parametrize("authenticated", [True, False], ids=["authenticated", "anonymous"])
def test_every_route_refuses_unclean_text(world: World, authenticated: bool) -> None:
    before = row_counts()
    failures: list[str] = []
    count = 0
    for probe in probes(world):
        count += 1
        response = send(world, probe, authenticated=authenticated)
        signed = authenticated and probe.body is not None and probe.template in SIGNED
        found = problem(probe, response, signed=signed)
        if found:
            failures.append(f"{probe.method} {probe.template} {probe.label}: {found}")
    assert count > 1000
    assert not failures, f"{len(failures)} of {count} probes:\n" + "\n".join(failures[:60])
    assert row_counts() == before


# --- what the refusals say, and what clean text does -----------------------------------------


def test_a_refusal_names_the_parameter(world: World) -> None:
    auth = {"Authorization": f"Bearer {world.key}"}
    world.client.cookies.clear()
    body = {"amountCents": 1000, "currency": "USD", "metadata": {"note": "a\x00b"}}
    refused = world.client.post("/api/orders", json=body, headers=auth)
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "invalid_request",
        "message": "metadata.note: a NUL character (U+0000) is not allowed (tab, line feed and "
        "carriage return are, in text values)",
        "param": "metadata.note",
    }
    path = world.client.get("/api/payments/pay_%ED%A0%80", headers=auth).json()["error"]
    assert (path["code"], path["param"]) == ("invalid_request", "paymentId")
    endpoint = world.path_ids["endpointId"]
    query = world.client.get(
        f"/api/webhook_endpoints/{endpoint}/deliveries?limit=5&cursor=whd%00", headers=auth
    ).json()["error"]
    assert (query["code"], query["param"]) == ("invalid_request", "cursor")
    logo = world.client.get("/api/checkout/logos/%01.png")
    assert (logo.status_code, logo.json()["error"]["param"]) == (400, "logoId")


def test_free_text_keeps_line_breaks_tabs_and_any_character(world: World) -> None:
    auth = {"Authorization": f"Bearer {world.key}"}
    world.client.cookies.clear()
    reference = "Line 1\r\nLine 2\tcafé 😀"
    body = {"amountCents": 1000, "currency": "USD", "reference": reference}
    created = world.client.post("/api/orders", json=body, headers=auth)  # \\u escapes: slow path
    assert created.status_code == 201, created.text
    assert created.json()["order"]["reference"] == reference
    raw = json.dumps(body, ensure_ascii=False).encode()  # raw UTF-8
    again = world.client.post(
        "/api/orders", content=raw, headers={**auth, "Content-Type": "application/json"}
    )
    assert again.status_code == 201, again.text
    assert again.json()["order"]["reference"] == reference


def test_a_signed_webhook_with_unclean_text_is_refused_and_not_stored(world: World) -> None:
    from backend.models import InboundWebhookEvent

    world.client.cookies.clear()
    event = ws.event("payment_intent.created", ws.payment_intent(metadata={"note": "a\x00b"}))
    body, headers = ws.signed(event)
    refused = world.client.post(SIGNED[0], content=body, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "data.object.metadata.note"
    clean = ws.event("payment_intent.created", ws.payment_intent(metadata={"note": "a\nb"}))
    body, headers = ws.signed(clean)
    assert world.client.post(SIGNED[0], content=body, headers=headers).status_code == 200
    with session_scope(readonly=True) as db:
        ids = {row.event_id for row in db.exec(select(InboundWebhookEvent)).scalars()}
    assert clean["id"] in ids and event["id"] not in ids
    unsigned = world.client.post(SIGNED[0], content=b"\x00\xff garbage")
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (400, "signature_missing")


def test_a_real_server_hands_the_raw_path_over_and_it_is_refused(world: World) -> None:
    """uvicorn decodes the path with replacement characters: the check reads the raw bytes."""
    from tests.integration.live_server import serve

    payment = world.path_ids["paymentId"]
    auth = {"Authorization": f"Bearer {world.key}"}
    with serve(world.client.app) as base, httpx.Client(base_url=base, headers=auth) as client:
        for url, param in [
            ("/api/payments/%FF", "paymentId"),
            ("/api/payments/%ED%A0%80", "paymentId"),
            ("/api/payments/a%00b", "paymentId"),
            (f"/api/payments/{payment}?expand=%C0%80", "expand"),
            (f"/api/payments/{payment}?expand=%1B", "expand"),
        ]:
            response = client.get(url)
            assert response.status_code == 400, (url, response.text)
            assert response.json()["error"]["param"] == param
        assert client.get(f"/api/payments/{payment}").status_code == 200
