"""Products, prices and test clocks through the REST API, on SQLite and PostgreSQL: shapes,
lists and their cursors, immutable prices, isolation between merchants and modes, idempotency,
clear refusals of bad input, and test clocks that refuse live keys and never go back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from backend.core.db import session_scope
from backend.models import AuditLog
from backend.models.billing import Price, Product, TestClock
from backend.services.billing import clock, engine
from backend.services.identity import api_keys
from tests.integration.api_client import Merchant, new_merchant

JAN_31 = int(datetime(2025, 1, 31, 9, 0, tzinfo=UTC).timestamp())
DAY = 86_400


@pytest.fixture
def client(configured_app: str) -> Iterator[TestClient]:
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Merchant:
    return new_merchant(client, "Harbour Tea")


@pytest.fixture
def other(client: TestClient) -> Merchant:
    return new_merchant(client, "Other Shop")


def live(merchant: Merchant) -> Merchant:
    """The same merchant through a live-mode key."""
    with session_scope() as db:
        issued = api_keys.issue_key(db, merchant.merchant_id, livemode=True, name="Live")
    return Merchant(merchant.client, merchant.merchant_id, issued.secret)


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True
    return body


def refused(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def product(merchant: Merchant, name: str = "Pro plan", **extra: Any) -> dict[str, Any]:
    return ok(merchant.post("/api/products", {"name": name, **extra}), 201)["product"]


def price(merchant: Merchant, product_id: str, **extra: Any) -> dict[str, Any]:
    body = {"productId": product_id, "unitAmountCents": 2_500, "currency": "usd", **extra}
    return ok(merchant.post("/api/prices", body), 201)["price"]


def post(merchant: Merchant, path: str, body: Any, key: str | None = None) -> httpx.Response:
    return merchant.post(path, body, key=key)


def delete(merchant: Merchant, path: str) -> httpx.Response:
    return merchant.client.delete(path, headers=merchant.headers())


# --- products -----------------------------------------------------------------------------------


def test_a_product_is_created_read_updated_and_archived(shop: Merchant):
    created = product(shop, "  Pro plan ", description="For teams", metadata={"tier": "pro"})
    assert created["id"].startswith("prod_")
    assert {k: created[k] for k in ("object", "livemode", "name", "description", "active")} == {
        "object": "product",
        "livemode": False,
        "name": "Pro plan",
        "description": "For teams",
        "active": True,
    }
    assert created["metadata"] == {"tier": "pro"}
    assert ok(shop.get(f"/api/products/{created['id']}"))["product"] == created

    updated = ok(
        shop.post(
            f"/api/products/{created['id']}",
            {"name": "Team plan", "description": "", "metadata": {"tier": "", "seats": "5"}},
        )
    )["product"]
    assert (updated["name"], updated["description"]) == ("Team plan", None)
    assert updated["metadata"] == {"seats": "5"}  # merged; "" removed the key
    assert updated["updatedAt"] >= created["updatedAt"]

    archived = ok(shop.post(f"/api/products/{created['id']}", {"active": False}))["product"]
    assert archived["active"] is False
    with session_scope() as db:
        actions = db.exec(
            select(AuditLog.action)
            .where(AuditLog.object_id == created["id"])
            .order_by(col(AuditLog.created_at))
        ).all()
    assert actions == ["product.created", "product.updated", "product.updated"]


def test_products_list_newest_first_in_pages_and_by_state(shop: Merchant):
    made = [product(shop, f"Plan {n}")["id"] for n in range(5)]
    shop.post(f"/api/products/{made[1]}", {"active": False})

    seen, cursor = [], None
    while True:
        query = "/api/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = ok(shop.get(query))
        assert len(page["products"]) <= 2
        seen += [p["id"] for p in page["products"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
    active = [p["id"] for p in ok(shop.get("/api/products?active=true"))["products"]]
    assert active == [m for m in made[::-1] if m != made[1]]
    assert [p["id"] for p in ok(shop.get("/api/products?active=false"))["products"]] == [made[1]]


# --- prices -------------------------------------------------------------------------------------


def test_one_time_and_recurring_prices_in_any_currency(shop: Merchant):
    prod = product(shop)["id"]
    once = price(shop, prod, nickname="Setup fee")
    assert once["id"].startswith("price_")
    assert {k: once[k] for k in ("productId", "unitAmountCents", "currency", "type")} == {
        "productId": prod,
        "unitAmountCents": 2_500,
        "currency": "USD",
        "type": "one_time",
    }
    assert once["recurring"] is None and once["nickname"] == "Setup fee"

    quarterly = price(
        shop,
        prod,
        unitAmountCents=1_500,
        currency="JPY",
        recurring={"interval": "month", "intervalCount": 3},
    )
    assert quarterly["type"] == "recurring"
    assert quarterly["recurring"] == {"interval": "month", "intervalCount": 3}
    yearly = price(
        shop, prod, unitAmountCents=12_345, currency="KWD", recurring={"interval": "year"}
    )
    assert yearly["recurring"] == {"interval": "year", "intervalCount": 1}
    free = price(shop, prod, unitAmountCents=0, recurring={"interval": "week"})
    assert free["unitAmountCents"] == 0

    listed = ok(shop.get(f"/api/prices?productId={prod}"))["prices"]
    assert [p["id"] for p in listed] == [free["id"], yearly["id"], quarterly["id"], once["id"]]
    recurring = ok(shop.get("/api/prices?type=recurring"))["prices"]
    assert {p["id"] for p in recurring} == {free["id"], yearly["id"], quarterly["id"]}
    assert [p["id"] for p in ok(shop.get("/api/prices?currency=jpy"))["prices"]] == [
        quarterly["id"]
    ]
    assert ok(shop.get(f"/api/prices/{yearly['id']}"))["price"] == yearly


def test_a_price_changes_only_its_active_flag_nickname_and_metadata(shop: Merchant):
    prod = product(shop)["id"]
    made = price(shop, prod, recurring={"interval": "month"}, metadata={"a": "1"})
    changed = ok(
        shop.post(
            f"/api/prices/{made['id']}",
            {"active": False, "nickname": "Legacy", "metadata": {"b": "2"}},
        )
    )["price"]
    assert (changed["active"], changed["nickname"], changed["metadata"]) == (
        False,
        "Legacy",
        {"a": "1", "b": "2"},
    )
    for field, value in [
        ("unitAmountCents", 1),
        ("currency", "EUR"),
        ("recurring", {"interval": "year"}),
        ("productId", prod),
    ]:
        error = refused(shop.post(f"/api/prices/{made['id']}", {field: value}), 400)
        assert error["param"] == field
    after = ok(shop.get(f"/api/prices/{made['id']}"))["price"]
    assert (after["unitAmountCents"], after["currency"]) == (2_500, "USD")
    assert [p["id"] for p in ok(shop.get("/api/prices?active=false"))["prices"]] == [made["id"]]
    assert ok(shop.get("/api/prices?active=true"))["prices"] == []


def test_bad_input_is_refused_with_the_parameter_named(shop: Merchant):
    prod = product(shop)["id"]
    cases: list[tuple[str, dict[str, Any], int, str | None]] = [
        ("/api/products", {"name": ""}, 400, "name"),
        ("/api/products", {"name": "   "}, 422, "name"),
        ("/api/products", {"name": "A", "colour": "red"}, 400, "colour"),
        ("/api/products", {"name": 5}, 400, "name"),
        ("/api/products", {"name": "A", "metadata": {"k": 1}}, 400, "metadata.k"),
        ("/api/products", {"name": "A", "metadata": {"k" * 41: "v"}}, 422, "metadata"),
        ("/api/prices", {"productId": prod, "unitAmountCents": 1, "currency": "XXX"}, 422, None),
        ("/api/prices", {"productId": prod, "unitAmountCents": -1, "currency": "USD"}, 400, None),
        ("/api/prices", {"productId": prod, "unitAmountCents": 1.5, "currency": "USD"}, 400, None),
        ("/api/prices", {"productId": prod, "unitAmountCents": "1", "currency": "USD"}, 400, None),
        (
            "/api/prices",
            {"productId": prod, "unitAmountCents": 10**12, "currency": "USD"},
            400,
            "unitAmountCents",
        ),
        (
            "/api/prices",
            {
                "productId": prod,
                "unitAmountCents": 1,
                "currency": "USD",
                "recurring": {"interval": "month", "intervalCount": 13},
            },
            422,
            "recurring.intervalCount",
        ),
        (
            "/api/prices",
            {
                "productId": prod,
                "unitAmountCents": 1,
                "currency": "USD",
                "recurring": {"interval": "fortnight"},
            },
            400,
            "recurring.interval",
        ),
        (
            "/api/prices",
            {"productId": "prod_nope", "unitAmountCents": 1, "currency": "USD"},
            404,
            "productId",
        ),
    ]
    for path, body, status, param in cases:
        error = refused(shop.post(path, body), status)
        if param is not None:
            assert error["param"] == param, (body, error)
        else:
            assert error["param"] in ("currency", "unitAmountCents"), (body, error)
    for query, param in [
        ("/api/products?limit=0", "limit"),
        ("/api/products?limit=101", "limit"),
        ("/api/products?cursor=prod_nope", "cursor"),
        ("/api/products?active=maybe", "active"),
        ("/api/prices?type=monthly", "type"),
        ("/api/prices?currency=ZZZ", "currency"),
    ]:
        error = shop.get(query).json()["error"]
        assert error["param"] == param, (query, error)
    with session_scope() as db:
        mine = select(func.count()).where(Price.merchant_id == shop.merchant_id)
        assert db.exec(mine.select_from(Price)).one() == 0


def test_an_archived_product_takes_no_new_price(shop: Merchant):
    prod = product(shop, active=False)["id"]
    refused(
        shop.post("/api/prices", {"productId": prod, "unitAmountCents": 1, "currency": "USD"}),
        409,
        "product_archived",
    )


def test_another_merchants_or_modes_objects_are_not_found(shop: Merchant, other: Merchant):
    prod = product(shop)["id"]
    made = price(shop, prod)
    for intruder in (other, live(shop)):
        refused(intruder.get(f"/api/products/{prod}"), 404, "resource_missing")
        refused(intruder.post(f"/api/products/{prod}", {"name": "Mine"}), 404)
        refused(intruder.get(f"/api/prices/{made['id']}"), 404)
        refused(intruder.post(f"/api/prices/{made['id']}", {"active": False}), 404)
        body = {"productId": prod, "unitAmountCents": 1, "currency": "USD"}
        refused(intruder.post("/api/prices", body), 404)
        assert ok(intruder.get("/api/products"))["products"] == []
        assert ok(intruder.get(f"/api/prices?productId={prod}"))["prices"] == []
        refused(intruder.get(f"/api/products?cursor={prod}"), 422)
    assert ok(shop.get(f"/api/products/{prod}"))["product"]["name"] == "Pro plan"
    assert ok(shop.get(f"/api/prices/{made['id']}"))["price"]["active"] is True


def test_idempotency_keys_replay_and_refuse_another_body(shop: Merchant):
    first = shop.post("/api/products", {"name": "Once"}, key="prod-1")
    again = shop.post("/api/products", {"name": "Once"}, key="prod-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    refused(shop.post("/api/products", {"name": "Twice"}, key="prod-1"), 409)
    prod = first.json()["product"]["id"]
    body = {"productId": prod, "unitAmountCents": 100, "currency": "EUR"}
    assert shop.post("/api/prices", body, key="price-1").json() == (
        shop.post("/api/prices", body, key="price-1").json()
    )
    with session_scope() as db:
        products = db.exec(select(Product).where(Product.merchant_id == shop.merchant_id)).all()
        prices = db.exec(select(Price).where(Price.merchant_id == shop.merchant_id)).all()
    assert [p.name for p in products] == ["Once"] and len(prices) == 1


# --- test clocks --------------------------------------------------------------------------------


def test_a_test_clock_advances_forward_only_and_runs_the_engine(
    shop: Merchant, monkeypatch: pytest.MonkeyPatch
):
    runs: list[tuple[str, int, int]] = []

    def run_clock(db: Any, test_clock: TestClock, *, previous: datetime) -> None:
        runs.append((test_clock.id, int(previous.timestamp()), clock.unix(test_clock)))
        assert test_clock.status == "advancing"

    monkeypatch.setattr(engine, "run_clock", run_clock)
    made = ok(shop.post("/api/test_clocks", {"frozenTime": JAN_31, "name": "Renewals"}), 201)
    tc = made["testClock"]
    assert tc["id"].startswith("clock_")
    assert {k: tc[k] for k in ("object", "livemode", "name", "frozenTime", "status")} == {
        "object": "test_clock",
        "livemode": False,
        "name": "Renewals",
        "frozenTime": JAN_31,
        "status": "ready",
    }
    with session_scope() as db:
        assert clock.now_for(db, tc["id"]) == datetime.fromtimestamp(JAN_31, UTC)
        assert abs((clock.now_for(db, None) - datetime.now(UTC)).total_seconds()) < 60

    later = JAN_31 + 29 * DAY
    advanced = ok(shop.post(f"/api/test_clocks/{tc['id']}/advance", {"frozenTime": later}))
    assert advanced["testClock"]["frozenTime"] == later
    assert advanced["testClock"]["status"] == "ready"
    assert runs == [(tc["id"], JAN_31, later)]

    for back in (later, later - 1, JAN_31):
        error = refused(
            shop.post(f"/api/test_clocks/{tc['id']}/advance", {"frozenTime": back}),
            422,
            "clock_cannot_go_back",
        )
        assert error["param"] == "frozenTime"
    assert len(runs) == 1
    assert ok(shop.get(f"/api/test_clocks/{tc['id']}"))["testClock"]["frozenTime"] == later
    with session_scope() as db:
        actions = db.exec(
            select(AuditLog.action)
            .where(AuditLog.object_id == tc["id"])
            .order_by(col(AuditLog.created_at))
        ).all()
    assert actions == ["test_clock.created", "test_clock.advanced"]


def test_when_the_engine_fails_the_clock_has_not_moved(
    shop: Merchant, monkeypatch: pytest.MonkeyPatch
):
    tc = ok(shop.post("/api/test_clocks", {"frozenTime": JAN_31}), 201)["testClock"]

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("engine fault")

    monkeypatch.setattr(engine, "run_clock", broken)
    with pytest.raises(RuntimeError, match="engine fault"):
        shop.post(f"/api/test_clocks/{tc['id']}/advance", {"frozenTime": JAN_31 + DAY})
    after = ok(shop.get(f"/api/test_clocks/{tc['id']}"))["testClock"]
    assert (after["frozenTime"], after["status"]) == (JAN_31, "ready")


def test_test_clocks_are_refused_to_live_keys(shop: Merchant):
    tc = ok(shop.post("/api/test_clocks", {"frozenTime": JAN_31}), 201)["testClock"]
    live_key = live(shop)
    for response in (
        live_key.post("/api/test_clocks", {"frozenTime": JAN_31}),
        live_key.get("/api/test_clocks"),
        live_key.get(f"/api/test_clocks/{tc['id']}"),
        live_key.post(f"/api/test_clocks/{tc['id']}/advance", {"frozenTime": JAN_31 + DAY}),
        delete(live_key, f"/api/test_clocks/{tc['id']}"),
    ):
        error = refused(response, 403, "test_mode_only")
        assert "test mode only" in error["message"]
    with session_scope() as db:
        clocks = db.exec(select(TestClock).where(TestClock.merchant_id == shop.merchant_id)).all()
    assert [(c.id, c.frozen_time) for c in clocks] == [
        (tc["id"], datetime.fromtimestamp(JAN_31, UTC))
    ]


def test_test_clocks_list_delete_isolation_and_bad_input(shop: Merchant, other: Merchant):
    first = ok(shop.post("/api/test_clocks", {"frozenTime": JAN_31}), 201)["testClock"]
    second = ok(shop.post("/api/test_clocks", {"frozenTime": JAN_31 + DAY}), 201)["testClock"]
    assert [c["id"] for c in ok(shop.get("/api/test_clocks"))["testClocks"]] == [
        second["id"],
        first["id"],
    ]
    page = ok(shop.get("/api/test_clocks?limit=1"))
    assert [c["id"] for c in page["testClocks"]] == [second["id"]]
    assert page["nextCursor"] == second["id"]

    refused(other.get(f"/api/test_clocks/{first['id']}"), 404, "resource_missing")
    refused(other.post(f"/api/test_clocks/{first['id']}/advance", {"frozenTime": JAN_31 + 9}), 404)
    refused(delete(other, f"/api/test_clocks/{first['id']}"), 404)
    assert ok(other.get("/api/test_clocks"))["testClocks"] == []

    for body, status in [
        ({}, 400),
        ({"frozenTime": "2025-01-31"}, 400),
        ({"frozenTime": 1.5}, 400),
        ({"frozenTime": 12}, 400),  # 1970: before 2000
        ({"frozenTime": 10**11}, 400),
        ({"frozenTime": JAN_31, "name": "x" * 301}, 400),
        ({"frozenTime": JAN_31, "speed": 2}, 400),
    ]:
        refused(shop.post("/api/test_clocks", body), status)

    assert ok(delete(shop, f"/api/test_clocks/{first['id']}")) == {
        "success": True,
        "id": first["id"],
        "deleted": True,
    }
    refused(shop.get(f"/api/test_clocks/{first['id']}"), 404)
    refused(shop.post(f"/api/test_clocks/{first['id']}/advance", {"frozenTime": JAN_31 + 5}), 404)
    refused(delete(shop, f"/api/test_clocks/{first['id']}"), 404)
    assert [c["id"] for c in ok(shop.get("/api/test_clocks"))["testClocks"]] == [second["id"]]
    with session_scope() as db:  # the row stays, so what points at it stays valid
        kept = db.get(TestClock, first["id"])
        assert kept is not None and kept.deleted_at is not None
        assert clock.now_for(db, first["id"]) == datetime.fromtimestamp(JAN_31, UTC)


def test_advancing_is_idempotent_under_its_key(shop: Merchant):
    tc = ok(shop.post("/api/test_clocks", {"frozenTime": JAN_31}), 201)["testClock"]
    path, body = f"/api/test_clocks/{tc['id']}/advance", {"frozenTime": JAN_31 + DAY}
    first, again = shop.post(path, body, key="adv-1"), shop.post(path, body, key="adv-1")
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    # Without the key, the same time again is a move that is not forward.
    refused(shop.post(path, body), 422, "clock_cannot_go_back")
