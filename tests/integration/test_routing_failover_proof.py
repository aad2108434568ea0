"""The proof of cost routing and health-aware failover with two real processors (issue 20).

Two card processors of one merchant, each a real Stripe SDK client behind its own FakeStripe on
127.0.0.1: the platform's Stripe account (2.9% + 30c) and the merchant's own Stripe account,
cheaper (2.5% + 25c). Payments go to the cheaper one until its server is stopped mid-run; then
50 concurrent payments (each its own Idempotency-Key, over real HTTP) are each taken exactly
once by the other, no customer is charged twice (PaymentIntents counted at both fakes), the
dead account's circuit opens, and later payments skip it without trying it. SQLite and
PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import httpx
import pytest
from sqlmodel import select

from backend.core.crypto import encrypt_json
from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import GatewayConfig, Payment, PaymentAttempt, ProcessorCircuit
from backend.services.payments import circuit, routing
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import new_merchant
from tests.integration.live_server import serve

N = 50
PLATFORM_KEY = "sk_test_platformAAAAAAAAAAAAAAAA"
OWN_KEY = "sk_test_ownaccountBBBBBBBBBBBBBBB"


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def circuits_in(request: pytest.FixtureRequest, configured_app: str, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """Where the workers share the circuits: the database, or Redis when REDIS_URL is set."""
    if request.param == "redis":
        monkeypatch.setenv("REDIS_URL", request.getfixturevalue("redis_url"))
    return request.param


@pytest.fixture
def two_stripes(circuits_in: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from backend.api import create_app
    from backend.gateways.stripe_gateway import StripeGateway
    from tests.conftest import _reset_caches

    platform, own = FakeStripe(PLATFORM_KEY).start(), FakeStripe(OWN_KEY).start()
    monkeypatch.setenv("STRIPE_SECRET_KEY", PLATFORM_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", platform.url)
    original = routing._build

    @lru_cache(maxsize=64)
    def build(name: str, secret: str | None, paypal: object = None):  # type: ignore[no-untyped-def]
        # STRIPE_API_BASE is one address for every Stripe client: the merchant's own account
        # is sent to its own fake server, so that stopping it leaves the platform's running.
        if name == "stripe" and secret == OWN_KEY:
            return StripeGateway(OWN_KEY, api_base=own.url)
        return original(name, secret, paypal) if paypal else original(name, secret)

    monkeypatch.setattr(routing, "_build", build)
    _reset_caches()
    app = create_app()
    try:
        with serve(app) as base:
            yield base, new_merchant(TestClient(app)), platform, own
    finally:
        platform.stop()
        own.stop()


def _charge(base: str, key: str, idem: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=60) as client:
        return client.post(
            "/api/payments/charge",
            json={
                "amountCents": 10_000,
                "currency": "USD",
                "paymentMethod": {"type": "card", "token": "pm_card_visa"},
            },
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
        )


def _attempts(payment_id: str) -> list[PaymentAttempt]:
    with session_scope() as db:
        return list(
            db.exec(
                select(PaymentAttempt)
                .where(PaymentAttempt.payment_id == payment_id)
                .order_by(PaymentAttempt.created_at, PaymentAttempt.id)
            ).all()
        )


def test_the_dead_processor_is_replaced_and_skipped_and_nobody_pays_twice(  # type: ignore[no-untyped-def]
    two_stripes, circuits_in: str
):
    base, shop, platform, own = two_stripes
    with session_scope() as db:
        platform_config = GatewayConfig(
            id=new_id("gwc"), merchant_id=shop.merchant_id, gateway="stripe", priority=10
        )
        own_config = GatewayConfig(
            id=new_id("gwc"),
            merchant_id=shop.merchant_id,
            gateway="stripe",
            priority=20,  # last in the merchant's order, but cheaper: cost routing picks it
            credentials_encrypted=encrypt_json({"secret_key": OWN_KEY}),
            fee_percent_pips=25_000,
            fee_fixed={"USD": 25},
        )
        db.add(platform_config)
        db.add(own_config)
        platform_id, own_id = platform_config.id, own_config.id

    # Healthy: the cheaper account takes the payment, and the attempt says why in words.
    first = _charge(base, shop.key, "before-1")
    assert first.status_code == 201, first.text
    payment = first.json()["payment"]
    [attempt] = _attempts(payment["id"])
    assert attempt.outcome == "succeeded"
    assert attempt.route_reason == (
        "cheapest: Stripe account \u2026BBBB 2.5% + $0.25 = $2.75 vs Stripe 2.9% + $0.30 = $3.20"
    )
    assert len(own.payment_intents) == 1 and not platform.payment_intents

    own.stop()  # the cheaper account's server goes away: connections are refused

    with ThreadPoolExecutor(max_workers=N) as pool:
        answers = list(pool.map(lambda i: _charge(base, shop.key, f"during-{i}"), range(N)))
    assert Counter(a.status_code for a in answers) == {201: N}, [a.text for a in answers[:3]]
    ids = [a.json()["payment"]["id"] for a in answers]
    assert len(set(ids)) == N

    with session_scope() as db:
        payments = db.exec(select(Payment).where(Payment.id.in_(ids))).all()  # type: ignore[attr-defined]
        taken = {(p.status, p.gateway_config_id) for p in payments}
        intents = Counter(p.gateway_payment_id for p in payments)
        circuit._CIRCUITS.clear()
        shared = circuit.read_fresh(db, [own_id, platform_id], False)
        row = db.get(ProcessorCircuit, circuit.circuit_id(own_id, False))
    assert shared[own_id].state == circuit.OPEN, shared
    assert shared[own_id].last_error == "Stripe could not be reached."
    assert shared[platform_id].healthy
    assert (row is None) == (circuits_in == "redis")  # one place holds the circuits
    assert taken == {("succeeded", platform_id)}
    tried_dead = 0
    for payment_id in ids:
        rows = _attempts(payment_id)
        assert [a.outcome for a in rows].count("succeeded") == 1, rows
        assert rows[-1].outcome == "succeeded"
        assert all(a.outcome == "error" for a in rows[:-1]), rows
        tried_dead += len(rows) - 1
        why = rows[-1].route_reason or ""
        passed_over = ("failover: Stripe account", "Stripe account \u2026BBBB: Skipped")
        assert why.startswith(passed_over), why

    # Exactly one PaymentIntent per payment, all at the live account; none new at the dead one.
    assert len(platform.payment_intents) == N
    assert len(own.payment_intents) == 1
    assert set(intents) == set(platform.payment_intents) and set(intents.values()) == {1}
    # The circuit opened after FAILURES_TO_OPEN refusals: not every payment knocked first.
    assert circuit.FAILURES_TO_OPEN <= tried_dead < N

    # Later payments skip the dead account without trying it, and say so.
    later = _charge(base, shop.key, f"after-{uuid.uuid4().hex}")
    assert later.status_code == 201, later.text
    [only] = _attempts(later.json()["payment"]["id"])
    assert only.outcome == "succeeded"
    assert (only.route_reason or "").startswith("Stripe account \u2026BBBB: Skipped since")
    assert len(platform.payment_intents) == N + 1

    # The payment's page says the same (portal data: reporting.payment_detail).
    from backend.services.reporting import payment_detail

    with session_scope() as db:
        stored = db.get(Payment, later.json()["payment"]["id"])
        assert stored is not None
        [step] = payment_detail.routing_decision(db, stored)
    assert (step.processor, step.reason) == ("Stripe", only.route_reason)
