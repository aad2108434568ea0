"""The per-process caches of the charge path: staleness bounded by CACHE_TTL_SECONDS, at once
for changes this process commits through the ORM, and for changes made by another process.

Each test runs on SQLite and on PostgreSQL. "Another worker" is either a Core UPDATE (the ORM
hears nothing of it, as a cache in another process would not) or a real second process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select

from backend.core import ttl_cache
from backend.core.db import session_scope
from backend.models import ApiKey, FeeOverride, GatewayConfig, Merchant, utcnow
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant
from tests.support import ROOT

TTL = 0.6


@pytest.fixture
def client(configured_app: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from backend.api import create_app
    from backend.core.config import get_settings

    monkeypatch.setenv("CACHE_TTL_SECONDS", str(TTL))
    get_settings.cache_clear()
    ttl_cache.clear_all()
    with TestClient(create_app()) as test_client:
        yield test_client
    ttl_cache.clear_all()


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return new_merchant(client)


def _charge(shop: Shop, amount: int = 10_000) -> dict:
    response = shop.post(
        "/api/payments/charge",
        {"amountCents": amount, "currency": "USD", "paymentMethod": {"token": "pm_card_visa"}},
    )
    assert response.status_code in (201, 402), response.text
    return response.json()


def _elsewhere(statement) -> None:  # type: ignore[no-untyped-def]
    """A change the ORM of this process does not see, as another worker's would not be."""
    with session_scope() as db:
        db.execute(statement)


# -- API keys ------------------------------------------------------------------------------


def test_a_key_revoked_elsewhere_stops_working_within_the_ttl(shop: Shop):
    assert shop.get("/api/payments/pay_missing").status_code == 404  # cached now
    _elsewhere(
        update(ApiKey).where(ApiKey.merchant_id == shop.merchant_id).values(revoked_at=utcnow())
    )
    time.sleep(TTL + 0.1)
    response = shop.get("/api/payments/pay_missing")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_a_key_revoked_in_this_process_stops_working_at_once(shop: Shop):
    assert shop.get("/api/payments/pay_missing").status_code == 404
    with session_scope() as db:
        for key in db.exec(select(ApiKey).where(ApiKey.merchant_id == shop.merchant_id)):
            key.revoked_at = utcnow()
    assert shop.get("/api/payments/pay_missing").status_code == 401


def test_a_suspended_merchant_is_refused_at_once(shop: Shop):
    assert shop.get("/api/payments/pay_missing").status_code == 404
    with session_scope() as db:
        merchant = db.get(Merchant, shop.merchant_id)
        assert merchant is not None
        merchant.status = "suspended"
    assert shop.get("/api/payments/pay_missing").status_code == 401


def test_an_expired_key_is_refused_on_time_even_when_cached(shop: Shop):
    assert shop.get("/api/payments/pay_missing").status_code == 404
    _elsewhere(
        update(ApiKey)
        .where(ApiKey.merchant_id == shop.merchant_id)
        .values(expires_at=utcnow() + timedelta(seconds=0.3))
    )
    time.sleep(TTL + 0.1)  # the new expiry is cached now...
    assert shop.get("/api/payments/pay_missing").status_code == 401  # ...and already past


def test_last_use_is_recorded_once_a_minute_not_per_request(shop: Shop):
    for _ in range(5):
        shop.get("/api/payments/pay_missing")
    with session_scope() as db:
        key = db.exec(select(ApiKey).where(ApiKey.merchant_id == shop.merchant_id)).one()
        first = key.last_used_at
    assert first is not None
    time.sleep(TTL + 0.1)
    shop.get("/api/payments/pay_missing")
    with session_scope() as db:
        key = db.exec(select(ApiKey).where(ApiKey.merchant_id == shop.merchant_id)).one()
        assert key.last_used_at == first


# -- merchant terms: fees and risk thresholds -----------------------------------------------


def test_a_fee_override_made_elsewhere_applies_within_the_ttl(shop: Shop):
    assert _charge(shop)["payment"]["platformFee"] == 300  # Starter: 3.0%
    with session_scope() as db:
        db.add(FeeOverride(id="fo_" + shop.merchant_id[-20:], merchant_id=shop.merchant_id))
    # The row exists but sets nothing yet: then another worker sets 1.0% behind our back.
    _elsewhere(
        update(FeeOverride)
        .where(FeeOverride.merchant_id == shop.merchant_id)
        .values(percent_pips=10_000)
    )
    time.sleep(TTL + 0.1)
    assert _charge(shop)["payment"]["platformFee"] == 100


def test_a_fee_override_made_in_this_process_applies_at_once(shop: Shop):
    assert _charge(shop)["payment"]["platformFee"] == 300
    with session_scope() as db:
        db.add(
            FeeOverride(
                id="fo_" + shop.merchant_id[-20:],
                merchant_id=shop.merchant_id,
                percent_pips=5_000,
            )
        )
    assert _charge(shop)["payment"]["platformFee"] == 50


def test_risk_thresholds_changed_in_another_process_apply_within_the_ttl(shop: Shop):
    assert _charge(shop)["success"] is True
    code = (
        "from backend.core.db import session_scope\n"
        "from backend.models import Merchant\n"
        "with session_scope() as db:\n"
        f"    m = db.get(Merchant, {shop.merchant_id!r})\n"
        "    m.risk_review_score = 0\n"
        "    m.risk_block_score = 0\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ},  # DATABASE_URL: the same database
        check=True,
        timeout=60,
    )
    time.sleep(TTL + 0.1)
    blocked = _charge(shop)
    assert blocked["success"] is False
    assert blocked["error"]["code"] == "payment_blocked"


# -- gateway configurations ----------------------------------------------------------------


def test_a_gateway_configuration_added_in_this_process_routes_at_once(shop: Shop):
    assert _charge(shop)["payment"]["gatewayFee"] == 320  # the sandbox prices as Stripe
    with session_scope() as db:
        db.add(
            GatewayConfig(
                id="gw_" + shop.merchant_id[-20:],
                merchant_id=shop.merchant_id,
                gateway="sandbox",
                priority=1,
                fee_percent_pips=10_000,
                fee_fixed={},
            )
        )
    assert _charge(shop)["payment"]["gatewayFee"] == 100


def test_a_gateway_disabled_elsewhere_stops_routing_within_the_ttl(shop: Shop):
    with session_scope() as db:
        db.add(
            GatewayConfig(
                id="gw_" + shop.merchant_id[-20:],
                merchant_id=shop.merchant_id,
                gateway="sandbox",
                priority=1,
                fee_percent_pips=10_000,
                fee_fixed={},
            )
        )
    assert _charge(shop)["payment"]["gatewayFee"] == 100
    _elsewhere(
        update(GatewayConfig)
        .where(GatewayConfig.merchant_id == shop.merchant_id)
        .values(enabled=False)
    )
    time.sleep(TTL + 0.1)
    assert _charge(shop)["payment"]["gatewayFee"] == 320


def test_no_cache_at_all_with_a_ttl_of_zero(shop: Shop, monkeypatch: pytest.MonkeyPatch):
    from backend.core.config import get_settings

    monkeypatch.setenv("CACHE_TTL_SECONDS", "0")
    get_settings.cache_clear()
    assert _charge(shop)["payment"]["platformFee"] == 300
    with session_scope() as db:
        db.add(FeeOverride(id="fo_" + shop.merchant_id[-20:], merchant_id=shop.merchant_id))
    _elsewhere(
        update(FeeOverride)
        .where(FeeOverride.merchant_id == shop.merchant_id)
        .values(percent_pips=10_000)
    )
    assert _charge(shop)["payment"]["platformFee"] == 100  # no waiting
