"""Helpers for payout tests: a merchant with money available and a verified bank account, and
the ledger's invariants."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from backend.core import crypto
from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import BankAccount, Membership
from backend.models.enums import LedgerAccount
from backend.models.ledger import Balance, BalanceTransaction, LedgerEntry
from backend.models.types import utcnow
from backend.services.ledger import release
from tests.integration.api_client import Merchant


def add_bank_account(
    merchant_id: str, *, provider: str = "sandbox", token: str | None = None, account: str = ""
) -> str:
    """A current verified bank account, as after Link (Plaid's, or the twin's)."""
    token = token or f"access-sandbox-ins_109508-{secrets.token_hex(16)}"
    with session_scope() as db:
        owner = db.exec(select(Membership).where(Membership.merchant_id == merchant_id)).first()
        assert owner is not None
        row = BankAccount(
            id=new_id("ba"),
            merchant_id=merchant_id,
            provider=provider,
            provider_item_id=f"item-{secrets.token_hex(8)}",
            provider_account_id=account or f"acc-{secrets.token_hex(8)}",
            institution_name="First Platypus Bank",
            account_name="Plaid Checking",
            mask="0000",
            subtype="checking",
            routing_number="011401533",
            account_number_encrypted=crypto.encrypt("1111222233330000"),
            access_token_encrypted=crypto.encrypt(token),
            verified_at=utcnow(),
            verified_by=owner.user_id,
        )
        db.add(row)
        return row.id


def fund(merchant: Merchant, payments: int = 3, amount: int = 10_000) -> list[str]:
    """Charge test payments and let their funds mature; returns the payment ids."""
    ids = []
    for _ in range(payments):
        response = merchant.charge(amount=amount)
        assert response.status_code == 201, response.text
        ids.append(response.json()["payment"]["id"])
    release.release_due(utcnow() + timedelta(days=10))
    return ids


def balance_row(merchant_id: str, currency: str = "USD") -> Balance:
    with session_scope(readonly=True) as db:
        row = db.get(Balance, (merchant_id, False, currency, "platform"))
        assert row is not None
        return row


def assert_ledger_consistent(merchant_id: str) -> None:
    """Per currency: Σ net of the balance transactions == available + pending, and every
    balance row equals the sums of its ledger accounts."""
    with session_scope(readonly=True) as db:
        nets: dict[str, int] = defaultdict(int)
        for currency, total in db.exec(
            select(BalanceTransaction.currency, func.sum(BalanceTransaction.net))
            .where(BalanceTransaction.merchant_id == merchant_id)
            .group_by(BalanceTransaction.currency)
        ).all():
            nets[currency] = int(total)
        balances = db.exec(select(Balance).where(Balance.merchant_id == merchant_id)).all()
        pools: dict[str, int] = defaultdict(int)
        for row in balances:
            pools[row.currency] += row.available + row.pending
            entries = dict(
                db.exec(
                    select(LedgerEntry.account, func.sum(LedgerEntry.amount))
                    .where(
                        LedgerEntry.merchant_id == merchant_id,
                        LedgerEntry.livemode == row.livemode,
                        LedgerEntry.currency == row.currency,
                        LedgerEntry.holder == row.holder,
                    )
                    .group_by(LedgerEntry.account)
                ).all()
            )
            assert row.available >= 0
            assert row.available == int(entries.get(LedgerAccount.MERCHANT_AVAILABLE, 0))
            assert row.pending == int(entries.get(LedgerAccount.MERCHANT_PENDING, 0))
            assert row.in_transit == int(entries.get(LedgerAccount.MERCHANT_IN_TRANSIT, 0))
            assert sum(int(v) for v in entries.values()) == 0  # every journal sums to zero
        assert dict(nets) == {c: v for c, v in pools.items() if c in nets or v}
