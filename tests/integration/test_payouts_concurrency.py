"""50 refunds (threads through the real service, operations.refund) racing a payout on one
merchant's balance, on PostgreSQL: available never goes below zero and no entry is lost (the
balance row equals the ledger's sums, the transactions add up to the balance)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from backend.core.db import get_engine, session_scope
from backend.core.errors import ServiceError
from backend.models.ledger import LedgerJournal, Payout
from backend.services.context import SYSTEM, Scope
from backend.services.payments import operations
from backend.services.payouts import creating
from tests.integration.api_client import new_merchant
from tests.integration.payout_support import (
    add_bank_account,
    assert_ledger_consistent,
    balance_row,
    fund,
)
from tests.support import migrate

N = 50


@pytest.fixture
def pg_app(fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from tests.conftest import _reset_caches

    migrate(fresh_postgres_url)
    monkeypatch.setenv("DATABASE_URL", fresh_postgres_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("PLAID_CLIENT_ID", raising=False)
    _reset_caches()
    yield fresh_postgres_url
    get_engine().dispose()
    _reset_caches()


def test_refunds_racing_a_payout_never_overdraw_or_lose_entries(pg_app: str) -> None:
    from backend.api import create_app

    merchant = new_merchant(TestClient(create_app()))
    add_bank_account(merchant.merchant_id)
    payments = fund(merchant, payments=N, amount=1_000)
    scope = Scope(merchant.merchant_id, False)
    available = balance_row(merchant.merchant_id).available
    assert available > 0

    def refund(payment_id: str) -> str:
        with session_scope() as db:
            _, record = operations.refund(db, scope, payment_id, amount=1_000, actor=SYSTEM)
            return record.status

    def pay_out() -> str:
        try:
            with session_scope() as db:
                payout = creating.create_manual(db, scope, SYSTEM, "USD", None)
        except ServiceError as exc:
            return exc.code
        return creating.send(payout.id).status

    with ThreadPoolExecutor(max_workers=16) as pool:
        payout_job = pool.submit(pay_out)
        refunds = list(pool.map(refund, payments))
        payout_outcome = payout_job.result()

    assert refunds.count("succeeded") + refunds.count("pending") == N
    assert payout_outcome in ("in_transit", "balance_insufficient")
    row = balance_row(merchant.merchant_id)
    assert row.available >= 0
    with session_scope(readonly=True) as db:
        refund_journals = db.exec(
            select(func.count()).where(
                LedgerJournal.merchant_id == merchant.merchant_id,
                LedgerJournal.kind == "refund",
            )
        ).one()
        assert refund_journals == N
        paid = db.exec(select(Payout).where(Payout.merchant_id == merchant.merchant_id)).all()
    assert len(paid) <= 1
    if paid:
        assert paid[0].amount <= available
        assert row.in_transit == paid[0].amount
    assert_ledger_consistent(merchant.merchant_id)
