"""Many simultaneous requests on one payment or one Idempotency-Key: exactly one effect.

Run over real HTTP (uvicorn, a thread pool of clients) on SQLite and on PostgreSQL, where the
row locks (SELECT ... FOR UPDATE) are what keeps the second capture out.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from backend.core.db import session_scope
from backend.models import DomainEvent, Payment, PaymentAttempt, Refund
from tests.integration.api_client import new_merchant
from tests.integration.live_server import serve

N = 50


@pytest.fixture
def server(configured_app: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from backend.api import create_app

    app = create_app()
    with serve(app) as base:
        yield base, new_merchant(TestClient(app))


def _fire(base: str, key: str, path: str, body: dict, idem: str | None = None) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    if idem:
        headers["Idempotency-Key"] = idem

    def one(_: int) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            return client.post(path, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(one, range(N)))


def test_fifty_concurrent_captures_capture_once(server):  # type: ignore[no-untyped-def]
    base, shop = server
    payment = shop.charge(capture=False, amount=5_000).json()["payment"]
    statuses = Counter(_fire(base, shop.key, f"/api/payments/{payment['id']}/capture", {}))
    assert statuses == {200: 1, 409: N - 1}
    with session_scope() as db:
        stored = db.get(Payment, payment["id"])
        assert stored is not None
        assert (stored.status, stored.amount_captured) == ("succeeded", 5_000)
        captures = db.exec(
            select(func.count())
            .select_from(PaymentAttempt)
            .where(
                PaymentAttempt.payment_id == payment["id"], PaymentAttempt.operation == "capture"
            )
        ).one()
        events = db.exec(
            select(func.count())
            .select_from(DomainEvent)
            .where(DomainEvent.object_id == payment["id"], DomainEvent.type == "payment.captured")
        ).one()
    assert (captures, events) == (1, 1)


def test_fifty_concurrent_refunds_never_exceed_the_capture(server):  # type: ignore[no-untyped-def]
    base, shop = server
    payment = shop.charge(amount=10_000).json()["payment"]
    statuses = Counter(
        _fire(base, shop.key, f"/api/payments/{payment['id']}/refund", {"amountCents": 1_000})
    )
    assert statuses[200] == 10
    with session_scope() as db:
        total = db.exec(
            select(func.sum(Refund.amount)).where(
                Refund.payment_id == payment["id"], Refund.status == "succeeded"
            )
        ).one()
        stored = db.get(Payment, payment["id"])
    assert total == 10_000
    assert stored is not None and stored.status == "refunded"


def test_fifty_concurrent_charges_with_one_key_make_one_payment(server):  # type: ignore[no-untyped-def]
    base, shop = server
    body = {"amountCents": 1_234, "currency": "USD", "paymentMethod": {"token": "pm_card_visa"}}
    statuses = Counter(_fire(base, shop.key, "/api/payments/charge", body, idem="same-key"))
    # One request does the work; the others either replay its answer or are told to retry.
    assert statuses[201] >= 1
    assert set(statuses) <= {201, 409}
    with session_scope() as db:
        count = db.exec(
            select(func.count()).select_from(Payment).where(Payment.merchant_id == shop.merchant_id)
        ).one()
    assert count == 1
