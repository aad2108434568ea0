"""A merchant's processors (services.payments.gateway_configs): validation, isolation, order,
and what routing makes of them. Stripe here is the real SDK talking to the local fake."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.core.db import session_scope
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.models import AuditLog, GatewayConfig, Payment
from backend.services.context import Scope
from backend.services.payments import gateway_configs
from tests.fakes.stripe_api import FakeStripe
from tests.integration.api_client import Merchant, new_merchant

KEY_A = "sk_test_" + "a1" * 12
KEY_B = "sk_test_" + "b2" * 12
Rules = gateway_configs.Rules


@pytest.fixture
def fake_stripe():  # type: ignore[no-untyped-def]
    with FakeStripe(KEY_A) as fake:
        fake.api_keys.add(KEY_B)
        yield fake


@pytest.fixture
def client(configured_app: str, monkeypatch: pytest.MonkeyPatch, fake_stripe: FakeStripe):  # type: ignore[no-untyped-def]
    from backend.api import create_app
    from tests.conftest import _reset_caches

    monkeypatch.setenv("STRIPE_API_BASE", fake_stripe.url)
    _reset_caches()
    with TestClient(create_app()) as test_client:
        yield test_client


def scope_of(shop: Merchant, livemode: bool = False) -> Scope:
    return Scope(shop.merchant_id, livemode)


def add(shop: Merchant, gateway: str, **kwargs: object) -> str:
    with session_scope() as db:
        return gateway_configs.add(db, scope_of(shop), gateway=gateway, **kwargs).id  # type: ignore[arg-type]


def configs(shop: Merchant, livemode: bool = False) -> list[GatewayConfig]:
    with session_scope(readonly=True) as db:
        return gateway_configs.list_configs(db, scope_of(shop, livemode))


def audit_actions(shop: Merchant) -> list[str]:
    with session_scope(readonly=True) as db:
        rows = db.exec(
            select(AuditLog)
            .where(
                AuditLog.merchant_id == shop.merchant_id, AuditLog.object_type == "gateway_config"
            )
            .order_by(AuditLog.created_at)
        ).all()
        return [r.action for r in rows]


@pytest.mark.parametrize(
    ("livemode", "gateway", "kwargs", "param"),
    [
        (False, "paypal", {}, "client_id"),  # PayPal needs its app's credentials
        (False, "square", {}, "gateway"),
        (True, "sandbox", {}, "gateway"),
        (True, "stripe", {"secret_key": KEY_A}, "secret_key"),  # a test key in live mode
        (False, "stripe", {"secret_key": "sk_test_short"}, "secret_key"),
        (False, "stripe", {"secret_key": "sk_test_" + "x" * 20 + " DROP"}, "secret_key"),
        (False, "sandbox", {"secret_key": KEY_A}, "secret_key"),
        (False, "sandbox", {"rules": Rules(min_amount=100)}, "currencies"),
        (False, "sandbox", {"rules": Rules(("USD", "EUR"), max_amount=5)}, "currencies"),
        (False, "sandbox", {"rules": Rules(("USD",), min_amount=9, max_amount=5)}, "min_amount"),
        (False, "sandbox", {"rules": Rules(("XYZ",))}, "currency"),
        (False, "sandbox", {"rules": Rules(methods=("wire",))}, "methods"),
        (False, "sandbox", {"rules": Rules(fee_percent_pips=1_000_001)}, "fee_percent"),
        (False, "sandbox", {"rules": Rules(fee_fixed=30)}, "fee_fixed"),
        (False, "sandbox", {"rules": Rules(fee_fixed=-1, fee_fixed_currency="USD")}, "fee_fixed"),
        (False, "sandbox", {"priority": True}, "priority"),
    ],
)
def test_a_refused_processor_writes_nothing(
    client: TestClient, livemode: bool, gateway: str, kwargs: dict, param: str
):
    shop = new_merchant(client)
    with pytest.raises(ValidationFailed) as refused, session_scope() as db:
        gateway_configs.add(db, scope_of(shop, livemode), gateway=gateway, **kwargs)
    assert refused.value.param == param
    assert configs(shop, livemode) == [] and audit_actions(shop) == []


def test_a_new_processor_goes_last_with_its_key_encrypted(client: TestClient):
    shop = new_merchant(client)
    first = add(shop, "sandbox", rules=Rules(("usd", "EUR", "USD")))
    second = add(shop, "stripe", secret_key=KEY_A)
    found = configs(shop)
    assert [c.id for c in found] == [first, second]
    assert [c.priority for c in found] == [10, 20]
    assert found[0].currencies == ["USD", "EUR"]
    assert KEY_A not in (found[1].credentials_encrypted or "")
    assert gateway_configs.masked_key(found[1]) == "sk_test_\u2026a1a1"
    assert gateway_configs.masked_key(found[0]) is None
    assert audit_actions(shop) == ["gateway_config.created"] * 2
    with session_scope(readonly=True) as db:
        details = db.exec(select(AuditLog.details).where(AuditLog.object_id == second)).one()
    assert details["own_key"] is True and KEY_A not in str(details)


def test_another_merchants_or_modes_processor_is_not_found(client: TestClient):
    shop, other = new_merchant(client), new_merchant(client)
    theirs = add(other, "sandbox")
    for scope in (scope_of(shop), scope_of(other, livemode=True)):
        for act in (
            lambda db, s: gateway_configs.get_config(db, s, theirs),
            lambda db, s: gateway_configs.update(db, s, theirs, rules=Rules()),
            lambda db, s: gateway_configs.set_enabled(db, s, theirs, False),
            lambda db, s: gateway_configs.move(db, s, theirs, 1),
            lambda db, s: gateway_configs.delete(db, s, theirs),
        ):
            with pytest.raises(NotFound), session_scope() as db:
                act(db, scope)
    assert [c.enabled for c in configs(other)] == [True]


def test_move_swaps_neighbours_and_renumbers(client: TestClient):
    shop = new_merchant(client)
    a, b, c = (add(shop, "sandbox", priority=p) for p in (5, 7, 90))
    with session_scope() as db:
        gateway_configs.move(db, scope_of(shop), c, -1)
    assert [(x.id, x.priority) for x in configs(shop)] == [(a, 10), (c, 20), (b, 30)]
    with session_scope() as db:
        gateway_configs.move(db, scope_of(shop), a, -1)  # already first: nothing moves
    assert [x.id for x in configs(shop)] == [a, c, b]
    with pytest.raises(ValidationFailed), session_scope() as db:
        gateway_configs.move(db, scope_of(shop), a, 2)


def test_a_processor_that_took_payments_is_turned_off_not_deleted(client: TestClient):
    shop = new_merchant(client)
    config_id = add(shop, "sandbox")
    paid = shop.charge().json()["payment"]["id"]
    with session_scope(readonly=True) as db:
        assert db.get(Payment, paid).gateway_config_id == config_id  # type: ignore[union-attr]
    with pytest.raises(Conflict) as refused, session_scope() as db:
        gateway_configs.delete(db, scope_of(shop), config_id)
    assert refused.value.code == "processor_in_use"

    with session_scope() as db:
        gateway_configs.set_enabled(db, scope_of(shop), config_id, False)
    later = shop.charge().json()["payment"]
    assert later["gatewayType"] == "sandbox"  # the platform's default route
    with session_scope(readonly=True) as db:
        assert db.get(Payment, later["id"]).gateway_config_id is None  # type: ignore[union-attr]
    refund = shop.post(f"/api/payments/{paid}/refund", {"amountCents": 500})
    assert refund.status_code == 200, refund.text

    unused = add(shop, "sandbox")
    with session_scope() as db:
        gateway_configs.delete(db, scope_of(shop), unused)
    assert [c.id for c in configs(shop)] == [config_id]
    assert audit_actions(shop)[-2:] == ["gateway_config.created", "gateway_config.deleted"]


def test_refunds_go_back_through_the_processor_that_took_the_payment(
    client: TestClient, fake_stripe: FakeStripe
):
    shop = new_merchant(client)
    add(shop, "stripe", secret_key=KEY_A)
    first = shop.charge("pm_card_visa").json()["payment"]
    # A second Stripe account, tried first from now on.
    add(shop, "stripe", secret_key=KEY_B, priority=1)
    second = shop.charge("pm_card_visa").json()["payment"]
    created = fake_stripe.calls("POST", "/v1/payment_intents")
    assert [c.authorization for c in created] == [f"Bearer {KEY_A}", f"Bearer {KEY_B}"]

    for payment in (first, second):
        response = shop.post(f"/api/payments/{payment['id']}/refund", {"amountCents": 100})
        assert response.status_code == 200, response.text
    refunds = fake_stripe.calls("POST", "/v1/refunds")
    assert [c.authorization for c in refunds] == [f"Bearer {KEY_A}", f"Bearer {KEY_B}"]


def test_a_processor_price_applies_to_the_next_payment(client: TestClient):
    shop = new_merchant(client)
    standard = shop.charge(amount=10_000).json()["payment"]
    assert standard["gatewayFee"] == 320  # 2.9% + 30c
    config_id = add(
        shop,
        "sandbox",
        rules=Rules(fee_percent_pips=20_000, fee_fixed=25, fee_fixed_currency="USD"),
    )
    priced = shop.charge(amount=10_000).json()["payment"]
    assert (priced["gatewayFee"], priced["netAmount"]) == (225, 10_000 - 300 - 225)

    with session_scope() as db:
        gateway_configs.update(
            db, scope_of(shop), config_id, rules=Rules(("EUR",), min_amount=0, max_amount=500)
        )
    # USD no longer matches it: the platform's default route at the standard price.
    assert shop.charge(amount=10_000).json()["payment"]["gatewayFee"] == 320
    assert shop.charge(amount=400, currency="EUR").json()["payment"]["gatewayFee"] == 12


def test_whether_a_processor_took_payments_is_one_index_probe(client: TestClient):
    from sqlalchemy import exists, text
    from sqlalchemy import select as sa_select

    with session_scope(readonly=True) as db:
        if db.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL's plan for a near-empty table depends on its statistics")
        query = sa_select(exists().where(Payment.gateway_config_id == "gwc_x"))
        sql = str(query.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row) for row in db.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "USING INDEX ix_payments_gateway_config" in plan
