"""One unit of work per mutating request: the Idempotency-Key record and the change it answers
are committed together, on SQLite and on PostgreSQL; and the fast row writers the charge path
uses store exactly what the ORM would.
"""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from backend.core import crypto
from backend.core.db import adopt, insert_rows, new_instance, row_values, session_scope
from backend.core.errors import Conflict
from backend.core.ids import new_id
from backend.models import AuditLog, DomainEvent, IdempotencyKey, Order, Payment, utcnow
from backend.services import idempotency
from tests.integration.api_client import Merchant as Shop
from tests.integration.api_client import new_merchant

BODY = {"amountCents": 1_500, "currency": "USD", "paymentMethod": {"token": "pm_card_visa"}}


@pytest.fixture
def client(configured_app: str):  # type: ignore[no-untyped-def]
    from backend.api import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return new_merchant(client)


def _count(model: type, merchant_id: str) -> int:
    with session_scope() as db:
        return db.exec(
            select(func.count()).select_from(model).where(model.merchant_id == merchant_id)  # type: ignore[attr-defined]
        ).one()


def _claim(db, merchant_id: str, key: str = "k-1", digest: str = "d-1"):  # type: ignore[no-untyped-def]
    return idempotency.claim(
        db,
        merchant_id=merchant_id,
        livemode=False,
        key=key,
        method="POST",
        path="/api/payments/charge",
        digest=digest,
    )


# -- claim and finish inside the request's transaction --------------------------------------


def test_the_record_and_the_work_are_committed_together(shop: Shop):
    first = shop.post("/api/payments/charge", BODY, key="order-1")
    assert first.status_code == 201
    again = shop.post("/api/payments/charge", BODY, key="order-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count(Payment, shop.merchant_id) == 1
    with session_scope() as db:
        record = db.exec(
            select(IdempotencyKey).where(IdempotencyKey.merchant_id == shop.merchant_id)
        ).one()
    assert record.response_status == 201
    assert record.response_body is not None
    # Stored sealed (encrypted at rest), and it opens to the first answer.
    assert first.json()["payment"]["id"] not in record.response_body
    assert first.json()["payment"]["id"] in crypto.unseal(record.response_body)


def test_work_that_fails_unexpectedly_leaves_neither_record_nor_rows(shop: Shop, monkeypatch):
    from backend.services.payments import charges

    def explode(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the process died here")

    models = (IdempotencyKey, Payment, Order, AuditLog, DomainEvent)
    before = [_count(model, shop.merchant_id) for model in models]
    monkeypatch.setattr(charges, "_apply_result", explode)
    with TestClient(shop.client.app, raise_server_exceptions=False) as client:
        response = client.post("/api/payments/charge", json=BODY, headers=shop.headers("order-2"))
    assert response.status_code == 500
    assert [_count(model, shop.merchant_id) for model in models] == before
    monkeypatch.undo()
    retried = shop.post("/api/payments/charge", BODY, key="order-2")  # runs afresh
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


def test_a_refusal_is_stored_and_replayed_with_nothing_else_written(shop: Shop):
    body = {**BODY, "currency": "XYZ"}
    first = shop.post("/api/payments/charge", body, key="order-3")
    assert first.status_code == 422
    again = shop.post("/api/payments/charge", body, key="order-3")
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (422, "true")
    assert again.json() == first.json()
    assert _count(Payment, shop.merchant_id) == 0
    assert _count(Order, shop.merchant_id) == 0
    reused = shop.post("/api/payments/charge", BODY, key="order-3")
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


def test_a_claim_rolled_back_with_its_work_can_be_claimed_again(shop: Shop):
    with pytest.raises(RuntimeError), session_scope() as db:
        assert isinstance(_claim(db, shop.merchant_id), idempotency.Claim)
        raise RuntimeError("rolled back")
    with session_scope() as db:
        claim = _claim(db, shop.merchant_id)
        assert isinstance(claim, idempotency.Claim)
        idempotency.finish(db, claim, status=201, body='{"ok": true}')
    with session_scope() as db:
        assert _claim(db, shop.merchant_id) == idempotency.Replay(201, '{"ok": true}')


def test_a_server_error_answer_is_not_kept(shop: Shop):
    with session_scope() as db:
        claim = _claim(db, shop.merchant_id)
        assert isinstance(claim, idempotency.Claim)
        idempotency.finish(db, claim, status=503, body="{}")
    with session_scope() as db:
        assert isinstance(_claim(db, shop.merchant_id), idempotency.Claim)


@pytest.mark.postgres
def test_a_duplicate_of_a_running_request_is_told_to_retry_without_waiting(
    shop: Shop, configured_app: str
):
    if not configured_app.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: a duplicate simply waits its turn")
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with session_scope() as db:
            assert isinstance(_claim(db, shop.merchant_id, key="slow"), idempotency.Claim)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(Conflict) as info, session_scope() as db:
            _claim(db, shop.merchant_id, key="slow")
        assert info.value.code == "idempotency_key_in_use"
    finally:
        release.set()
        thread.join(10)


# -- rows written without the unit of work ---------------------------------------------------


def test_new_rows_store_what_the_orm_would(shop: Shop):
    now = utcnow()
    with session_scope() as db:
        order = new_instance(
            Order,
            id=new_id("ord"),
            merchant_id=shop.merchant_id,
            amount=1234,
            currency="EUR",
            metadata_={"k": "v"},
            created_at=now,
            updated_at=now,
        )
        assert (order.status, order.livemode, order.reference) == ("open", False, None)
        insert_rows(db, Order, [row_values(order)])
        adopt(db, order)
        order.status = "paid"  # an ordinary persistent object now: flushed as an UPDATE
    with session_scope() as db:
        stored = db.get(Order, order.id)
        assert stored is not None
        assert (stored.status, stored.amount, stored.metadata_) == ("paid", 1234, {"k": "v"})
        assert stored.created_at == now  # a UTC timestamp on both databases


def test_new_instance_refuses_unknown_columns():
    with pytest.raises(TypeError, match="no columns"):
        new_instance(Order, id="ord_x", nonsense=1)


def test_a_charge_writes_each_row_once(shop: Shop):
    response = shop.post("/api/payments/charge", BODY)
    assert response.status_code == 201
    payment_id = response.json()["payment"]["id"]
    with session_scope() as db:
        events = db.exec(
            select(DomainEvent.type).where(
                DomainEvent.object_id.in_(  # type: ignore[attr-defined]
                    [payment_id, response.json()["payment"]["orderId"]]
                )
            )
        ).all()
        actions = db.exec(
            select(AuditLog.action).where(AuditLog.merchant_id == shop.merchant_id)
        ).all()
    assert sorted(events) == ["order.paid", "payment.succeeded"]
    assert sorted(a for a in actions if a != "merchant.created" and "api_key" not in a) == [
        "order.created",
        "payment.succeeded",
    ]
