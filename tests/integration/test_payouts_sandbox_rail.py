"""`make run`'s payouts without Plaid keys: the web app sends a payout on the sandbox twin and
the job worker, another process on the same twin file, syncs it to paid once the twin has
settled it by itself, and finds it when it reconciles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import delete, select

from backend.core.config import PROJECT_ROOT, get_settings
from backend.core.db import session_scope
from backend.integrations import bank_payouts
from backend.integrations.bank_payouts import SandboxPayoutRail
from backend.models import ReconciliationException
from backend.models.enums import PayoutStatus
from backend.models.ledger import Payout, PayoutRailCursor
from backend.services.context import SYSTEM, Scope
from backend.services.payouts import creating, sync
from tests.integration.api_client import Merchant, new_merchant
from tests.integration.payout_support import (
    add_bank_account,
    assert_ledger_consistent,
    balance_row,
    fund,
)

POST, SETTLE = timedelta(seconds=20), timedelta(seconds=60)


@pytest.fixture
def rail_file(
    configured_app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The twin in a file, moving by itself, as `make run` has it (the web app's side)."""
    path = tmp_path / "sandbox-rail.db"
    monkeypatch.setenv("SANDBOX_RAIL_PATH", str(path))
    monkeypatch.setenv("SANDBOX_RAIL_POST_SECONDS", str(POST.total_seconds()))
    monkeypatch.setenv("SANDBOX_RAIL_SETTLE_SECONDS", str(SETTLE.total_seconds()))
    for name in ("PLAID_CLIENT_ID", "PLAID_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    # A new twin numbers its events from 1: start the sandbox's cursor afresh on a shared
    # database (PostgreSQL).
    with session_scope() as db:
        db.exec(delete(PayoutRailCursor).where(PayoutRailCursor.rail == "sandbox"))  # type: ignore[arg-type]
    yield path
    get_settings.cache_clear()


@pytest.fixture
def shop(rail_file: Path) -> Merchant:
    from backend.api import create_app

    merchant = new_merchant(TestClient(create_app()))
    add_bank_account(merchant.merchant_id)
    fund(merchant)
    return merchant


def _pay_out(shop: Merchant) -> Payout:
    """Book and send a payout of the whole available balance, as the app does."""
    with session_scope() as db:
        booked = creating.book(
            db, Scope(shop.merchant_id, False), SYSTEM, "USD", None, automatic=False
        )
    sent = creating.send(booked.id)
    assert (sent.status, sent.rail) == (PayoutStatus.IN_TRANSIT, "sandbox")
    assert sent.rail_transfer_id
    return sent


def _payout(payout_id: str) -> Payout:
    with session_scope(readonly=True) as db:
        row = db.get(Payout, payout_id)
        assert row is not None
        return row


def test_the_workers_twin_pays_what_the_app_sent_once_settled(shop: Merchant, rail_file: Path):
    available = balance_row(shop.merchant_id).available
    sent = _pay_out(shop)
    assert sent.amount == available
    assert bank_payouts.payout_rail() is bank_payouts.SANDBOX
    created_at = bank_payouts.SANDBOX.sync(0)[-1].timestamp  # the transfer's "pending" event

    when = [created_at]
    worker = SandboxPayoutRail(
        rail_file, clock=lambda: when[0], post_after=POST, settle_after=SETTLE
    )
    assert worker.get(sent.rail_transfer_id or "").amount == available

    when[0] = created_at + timedelta(seconds=59)
    sync.sync_rail(worker)
    assert _payout(sent.id).status == PayoutStatus.IN_TRANSIT  # posted, not settled yet
    when[0] = created_at + timedelta(seconds=61)
    sync.sync_rail(worker)
    paid = _payout(sent.id)
    assert paid.status == PayoutStatus.PAID and paid.paid_at is not None
    paid_at = (
        paid.paid_at if paid.paid_at.tzinfo else paid.paid_at.replace(tzinfo=created_at.tzinfo)
    )
    assert abs(paid_at - (created_at + SETTLE)) < timedelta(seconds=1)  # when the twin settled
    assert sync.sync_rail(worker) == 0
    assert balance_row(shop.merchant_id).in_transit == 0
    assert_ledger_consistent(shop.merchant_id)


WORKER = """
import json, sys
from datetime import timedelta
from backend.core.db import session_scope
from backend.integrations.bank_payouts import payout_rail
from backend.models.types import utcnow
from backend.services.payouts import sync
from backend.services.reconciliation import runs

merchant_id, transfer_id = sys.argv[1:3]
applied = sync.sync_rail()
with session_scope() as db:
    summary = runs.run(db, merchant_id, False, utcnow() + timedelta(days=3))
print(json.dumps({"applied": applied, "status": payout_rail().get(transfer_id).status,
                  "found": summary.found, "errors": summary.errors}))
"""


def test_the_job_worker_process_syncs_and_reconciles_the_apps_payouts(
    shop: Merchant, rail_file: Path, configured_app: str
):
    """The real thing: the worker is another Python process, configured by its environment
    only (settled at once there, so the test need not wait)."""
    sent = _pay_out(shop)
    env = {
        **os.environ,
        "DATABASE_URL": configured_app,
        "SANDBOX_RAIL_PATH": str(rail_file),
        "SANDBOX_RAIL_POST_SECONDS": "0",
        "SANDBOX_RAIL_SETTLE_SECONDS": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER, shop.merchant_id, sent.rail_transfer_id or ""],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"applied": 3, "status": "settled", "found": 0, "errors": []}
    assert _payout(sent.id).status == PayoutStatus.PAID
    with session_scope(readonly=True) as db:  # nothing "missing at the processor"
        assert not db.exec(
            select(ReconciliationException).where(
                ReconciliationException.merchant_id == shop.merchant_id
            )
        ).all()
    assert_ledger_consistent(shop.merchant_id)


def test_the_twins_event_times_are_aware_datetimes(rail_file: Path) -> None:
    """The twin's events carry aware datetimes, as Plaid's SDK gives them."""
    state = bank_payouts.SANDBOX.send(
        access_token="access-sandbox",
        account_id="acc",
        amount=100,
        currency="USD",
        idempotency_key="stamp",
        legal_name="Shop",
        description="payout",
    )
    [event] = [e for e in bank_payouts.SANDBOX.sync(0) if e.transfer_id == state.transfer_id]
    assert isinstance(event.timestamp, datetime) and event.timestamp.utcoffset() is not None
