"""Payouts end to end through the REST API and the real plaid-python SDK against the local Plaid
fake on 127.0.0.1: pay out, follow the rail's events, ACH returns, refusals, cancels, retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import delete, select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.integrations import bank_payouts
from backend.models.ledger import BalanceTransaction, Payout, PayoutRailCursor
from backend.models.types import utcnow
from backend.services.payouts import creating, sync
from tests.fakes.plaid_api import FakePlaid
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import (
    add_bank_account,
    assert_ledger_consistent,
    balance_row,
    fund,
)

AUTHORIZE = "/transfer/authorization/create"


@pytest.fixture
def plaid_api(configured_app: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlaid]:
    with FakePlaid() as fake:
        monkeypatch.setenv("PLAID_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("PLAID_SECRET", fake.secret)
        monkeypatch.setenv("PLAID_HOST", fake.url)
        monkeypatch.setenv("PLAID_ENV", "sandbox")
        get_settings.cache_clear()
        assert bank_payouts.payout_rail().name == "plaid"
        # Each fake numbers its events from 1 (Plaid's ids only grow): start the cursor afresh
        # on the database the PostgreSQL tests share.
        with session_scope() as db:
            db.exec(delete(PayoutRailCursor))
        yield fake
    get_settings.cache_clear()


@pytest.fixture
def client(configured_app: str) -> TestClient:
    from backend.api import create_app

    return TestClient(create_app())


@pytest.fixture
def shop(client: TestClient, plaid_api: FakePlaid) -> Merchant:
    merchant = new_merchant(client)
    token, account = plaid_api.linked_account("checking")
    add_bank_account(merchant.merchant_id, provider="plaid", token=token, account=account)
    fund(merchant)
    return merchant


def _available(merchant: Merchant) -> int:
    return balance_row(merchant.merchant_id).available


def _pay_out(merchant: Merchant, body: dict | None = None, key: str = "po-1") -> dict:  # type: ignore[type-arg]
    response = merchant.post("/api/payouts", body or {"currency": "USD"}, key=key)
    assert response.status_code == 201, response.text
    return response.json()["payout"]


def test_a_manual_payout_goes_in_transit_then_paid(shop: Merchant, plaid_api: FakePlaid) -> None:
    available = _available(shop)
    assert available > 0
    payout = _pay_out(shop)
    assert (payout["status"], payout["amountCents"], payout["method"]) == (
        "in_transit",
        available,
        "plaid",
    )
    [transfer] = plaid_api.transfers.values()
    assert transfer["amount"] == f"{available // 100}.{available % 100:02d}"
    assert transfer["type"] == "credit"

    balance = shop.get("/api/balance").json()["balance"]
    assert balance["available"] == [{"currency": "USD", "amountCents": 0}]
    assert balance["inTransit"] == [{"currency": "USD", "amountCents": available}]

    bank_payouts.simulate(transfer["id"], "posted")
    sync.sync_rail()
    bank_payouts.simulate(transfer["id"], "settled")
    sync.sync_rail()
    sync.sync_rail()  # a repeat changes nothing
    detail = shop.get(f"/api/payouts/{payout['id']}").json()
    assert detail["payout"]["status"] == "paid" and detail["payout"]["paidAt"]
    paid_out = detail["balanceTransactions"]
    assert paid_out and sum(t["netCents"] for t in paid_out) == available
    assert all(t["payout"] == payout["id"] for t in paid_out)
    assert balance_row(shop.merchant_id).in_transit == 0
    assert_ledger_consistent(shop.merchant_id)


def test_an_ach_return_after_paid_restores_the_balance(
    shop: Merchant, plaid_api: FakePlaid
) -> None:
    available = _available(shop)
    payout = _pay_out(shop)
    [transfer] = plaid_api.transfers.values()
    for event in ("posted", "settled"):
        bank_payouts.simulate(transfer["id"], event)
    sync.sync_rail()
    assert shop.get(f"/api/payouts/{payout['id']}").json()["payout"]["status"] == "paid"

    # A return can reach us days after settlement; Plaid's sandbox only simulates one from
    # posted, so the late return is the event Plaid's feed would carry, applied as sync does.
    late = bank_payouts.TransferEvent(
        event_id=10_000,
        transfer_id=transfer["id"],
        event_type="returned",
        failure_code="R01",
        failure_message="Insufficient funds",
        timestamp=utcnow(),
    )
    with session_scope() as db:
        sync.apply_event(db, "plaid", late)
    with session_scope() as db:
        sync.apply_event(db, "plaid", late)  # a repeat changes nothing
    failed = shop.get(f"/api/payouts/{payout['id']}").json()["payout"]
    assert (failed["status"], failed["failureCode"]) == ("failed", "R01")
    assert failed["failureMessage"].startswith("R01: insufficient funds")
    assert "bank returned" in failed["failureMessage"]
    assert _available(shop) == available

    returned = shop.get("/api/balance_transactions?type=payout_failure").json()
    [line] = returned["balanceTransactions"]
    assert (line["netCents"], line["source"]) == (available, payout["id"])
    assert_ledger_consistent(shop.merchant_id)

    # The money is paid out again by the next payout, which takes the returned line too.
    again = _pay_out(shop, key="po-2")
    assert again["amountCents"] == available
    detail = shop.get(f"/api/payouts/{again['id']}").json()
    assert sum(t["netCents"] for t in detail["balanceTransactions"]) == available


def test_a_return_while_in_transit_fails_the_payout(shop: Merchant, plaid_api: FakePlaid) -> None:
    available = _available(shop)
    payout = _pay_out(shop)
    [transfer] = plaid_api.transfers.values()
    bank_payouts.simulate(transfer["id"], "posted")
    bank_payouts.simulate(transfer["id"], "returned", "R01")
    sync.sync_rail()
    failed = shop.get(f"/api/payouts/{payout['id']}").json()["payout"]
    assert (failed["status"], failed["failureCode"]) == ("failed", "R01")
    assert _available(shop) == available
    assert_ledger_consistent(shop.merchant_id)


def test_a_refused_authorization_fails_the_payout_and_gives_the_money_back(
    shop: Merchant, plaid_api: FakePlaid
) -> None:
    available = _available(shop)
    plaid_api.decline_next("NSF")
    payout = _pay_out(shop)
    assert (payout["status"], payout["failureCode"]) == ("failed", "NSF")
    assert "NSF" in payout["failureMessage"]
    assert _available(shop) == available and balance_row(shop.merchant_id).in_transit == 0
    assert not plaid_api.transfers
    assert_ledger_consistent(shop.merchant_id)


def test_an_unreachable_rail_leaves_it_pending_and_the_retry_sends_it_once(
    shop: Merchant, plaid_api: FakePlaid
) -> None:
    plaid_api.fail_next(1, 500, path=AUTHORIZE)
    payout = _pay_out(shop)
    assert payout["status"] == "pending"
    assert creating.retry_unsent() == 0  # too young: its own request may still be sending
    assert creating.retry_unsent(utcnow() + timedelta(minutes=2)) == 1
    assert creating.retry_unsent(utcnow() + timedelta(minutes=2)) == 0
    assert len(plaid_api.transfers) == 1
    with session_scope(readonly=True) as db:
        row = db.get(Payout, payout["id"])
        assert row is not None and row.status == "in_transit" and row.rail_transfer_id


def test_a_pending_payout_can_be_canceled_and_one_in_transit_cannot(
    shop: Merchant, plaid_api: FakePlaid
) -> None:
    available = _available(shop)
    plaid_api.fail_next(1, 500, path=AUTHORIZE)
    pending = _pay_out(shop, {"currency": "USD", "amountCents": 1000})
    assert pending["status"] == "pending"
    assert _available(shop) == available - 1000
    canceled = shop.post(f"/api/payouts/{pending['id']}/cancel", key="c-1")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["payout"]["status"] == "canceled"
    assert _available(shop) == available
    assert all(t["status"] == "cancelled" for t in plaid_api.transfers.values())
    assert creating.retry_unsent(utcnow() + timedelta(minutes=2)) == 0

    moving = _pay_out(shop, {"currency": "USD", "amountCents": 500}, key="po-2")
    assert moving["status"] == "in_transit"
    refused = shop.post(f"/api/payouts/{moving['id']}/cancel", key="c-2")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payout_invalid_state"
    sync.sync_rail()
    assert_ledger_consistent(shop.merchant_id)


def test_api_isolation_idempotency_and_bad_input(
    shop: Merchant, client: TestClient, plaid_api: FakePlaid
) -> None:
    other = new_merchant(client, "Other")
    payout = _pay_out(shop, {"currency": "USD", "amountCents": 700})
    replay = shop.post("/api/payouts", {"currency": "USD", "amountCents": 700}, key="po-1")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["payout"]["id"] == payout["id"]
    reused = shop.post("/api/payouts", {"currency": "USD", "amountCents": 701}, key="po-1")
    assert reused.status_code == 409
    assert len(plaid_api.transfers) == 1

    assert other.get(f"/api/payouts/{payout['id']}").status_code == 404
    assert other.post(f"/api/payouts/{payout['id']}/cancel").status_code == 404
    assert other.get("/api/payouts").json()["payouts"] == []
    assert other.get("/api/balance_transactions").json()["balanceTransactions"] == []
    assert (
        other.get(f"/api/balance_transactions?payout={payout['id']}").json()["balanceTransactions"]
        == []
    )
    assert shop.client.get("/api/payouts").status_code == 401

    with session_scope(readonly=True) as db:
        before = len(db.exec(select(Payout)).all())
    for body, status in [
        ({"currency": "USD", "amountCents": "100"}, 400),
        ({"currency": "USD", "amountCents": 1.5}, 400),
        ({"currency": "USD", "amountCents": 0}, 400),
        ({"currency": "US\u0000"}, 400),
        ({"currency": "USD", "extra": 1}, 400),
        ({"amountCents": 100}, 400),
        ({"currency": "XXQ"}, 422),
        ({"currency": "EUR"}, 422),  # Plaid Transfer pays out USD only
        ({"currency": "USD", "amountCents": 10**12}, 409),
    ]:
        response = shop.post("/api/payouts", body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["success"] is False
    huge = shop.client.post(
        "/api/payouts",
        content=b'{"currency": "USD", "pad": "' + b"x" * 2_000_000 + b'"}',
        headers={**shop.headers(), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert other.post("/api/payouts", {"currency": "USD"}).json()["error"]["code"] in (
        "bank_account_missing",
        "balance_insufficient",
    )
    for query in ("limit=0", "limit=abc", "cursor=nope", "type=bogus", "created[gte]=yesterday"):
        response = shop.get(f"/api/balance_transactions?{query}")
        assert response.status_code in (400, 422), (query, response.text)
    with session_scope(readonly=True) as db:
        assert len(db.exec(select(Payout)).all()) == before


def test_balance_transactions_page_by_cursor_and_filter(shop: Merchant) -> None:
    seen, cursor = [], None
    while True:
        url = "/api/balance_transactions?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = shop.get(url).json()
        seen += page["balanceTransactions"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    with session_scope(readonly=True) as db:
        stored = db.exec(
            select(BalanceTransaction).where(BalanceTransaction.merchant_id == shop.merchant_id)
        ).all()
    assert sorted(t["id"] for t in seen) == sorted(t.id for t in stored)
    assert len({t["id"] for t in seen}) == len(seen)
    created = [t["createdAt"] for t in seen]
    assert created == sorted(created, reverse=True)
    charges = shop.get("/api/balance_transactions?type=charge&currency=usd").json()
    assert {t["type"] for t in charges["balanceTransactions"]} == {"charge"}
    future = shop.get("/api/balance_transactions?created[gte]=2999-01-01T00:00:00Z").json()
    assert future["balanceTransactions"] == []


def test_the_bypass_pending_test_card_is_available_at_once(client: TestClient) -> None:
    """As in Stripe's test mode: 4000 0000 0000 0077 (pm_card_bypassPending) skips the payout
    delay, where 4242 waits for it; both are in the balance the API shows."""
    merchant = new_merchant(client)

    def balance() -> dict[str, int]:
        body = merchant.get("/api/balance").json()["balance"]
        return {
            kind: sum(b["amountCents"] for b in body[kind] if b["currency"] == "USD")
            for kind in ("available", "pending")
        }

    assert merchant.charge("pm_card_bypassPending", amount=5_000).status_code == 201
    instant = balance()
    assert merchant.charge("4242424242424242", amount=7_000).status_code == 201
    later = balance()
    assert instant["available"] > 0 and instant["pending"] == 0
    assert later["available"] == instant["available"] and later["pending"] > 0
    assert_ledger_consistent(merchant.merchant_id)
