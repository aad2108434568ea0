"""Pending funds become available once their availability date has passed.

The balance transactions of one journal move together. Those that add to the balance always
move; those that take from it (a debit that found too little available when it was booked)
move only while the available balance covers them, so it never goes below zero. Each run books
one journal (pending → available) per balance and tells the merchant (`balance.available`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models.enums import BalanceTransactionStatus, LedgerAccount
from backend.models.ledger import BalanceTransaction
from backend.models.types import utcnow
from backend.services import events
from backend.services.ledger.journal import BalanceKey, Journal, lock, post

S = BalanceTransactionStatus
BT = BalanceTransaction
_CHUNK = 500  # journal ids per UPDATE ... IN (...)


@dataclass(frozen=True)
class Released:
    key: BalanceKey
    amount: int
    transactions: int


def release(
    db: Session, key: BalanceKey, now: datetime | None = None, *, announce: bool = True
) -> Released:
    """Make this balance's matured pending funds available, in the caller's transaction, and
    tell the merchant (`announce`; not for a backfilled history)."""
    now = now or utcnow()
    available = lock(db, key).available
    groups = db.exec(
        select(BT.journal_id, func.sum(BT.net), func.count())
        .where(
            BT.merchant_id == key.merchant_id,
            BT.livemode == key.livemode,
            BT.currency == key.currency,
            BT.holder == key.holder,
            BT.status == S.PENDING,
            BT.available_on <= now,
        )
        .group_by(BT.journal_id)
        .order_by(func.min(BT.available_on), BT.journal_id)
    ).all()
    moved: list[str] = []
    total = count = 0
    for journal_id, summed, n in groups:
        net = int(summed)  # PostgreSQL's SUM of a bigint is a numeric (a Decimal)
        if net >= 0 or available + net >= 0:
            available += net
            total += net
            count += n
            moved.append(journal_id)
    for start in range(0, len(moved), _CHUNK):
        db.execute(
            sa.update(BT)
            .where(col(BT.journal_id).in_(moved[start : start + _CHUNK]))
            .values(status=S.AVAILABLE)
        )
    if total:
        post(
            db,
            Journal(
                balance=key,
                kind="release",
                key=f"release:{new_id('rl')}",
                source_type="balance",
                source_id=key.merchant_id,
                entries=[
                    (LedgerAccount.MERCHANT_PENDING, -total),
                    (LedgerAccount.MERCHANT_AVAILABLE, total),
                ],
                at=now,
            ),
        )
    if total and announce:
        events.emit(
            db,
            type="balance.available",
            merchant_id=key.merchant_id,
            livemode=key.livemode,
            object_type="balance",
            object_id=key.merchant_id,
            data={
                "currency": key.currency,
                "amountCents": total,
                "availableCents": available,
                "transactions": count,
            },
        )
    return Released(key, total, count)


def due_balances(db: Session, now: datetime) -> list[BalanceKey]:
    """Every balance with pending funds whose date has passed."""
    rows = db.exec(
        select(BT.merchant_id, BT.livemode, BT.currency, BT.holder)
        .where(BT.status == S.PENDING, BT.available_on <= now)
        .distinct()
    ).all()
    return [BalanceKey(*row) for row in rows]


def release_due(now: datetime | None = None) -> list[Released]:
    """Release every balance that has matured funds, one transaction per balance (so one
    merchant's lock never holds up another's)."""
    now = now or utcnow()
    with session_scope(readonly=True) as db:
        keys = due_balances(db, now)
    done = []
    for key in keys:
        with session_scope() as db:
            done.append(release(db, key, now))
    return done


def link_to_payout(db: Session, key: BalanceKey, payout_id: str) -> int:
    """A payout of the whole available balance pays out every available transaction no payout
    has taken yet (they add up to it: the caller holds the balance's lock). Returns how many."""
    result = db.execute(
        sa.update(BT)
        .where(
            BT.merchant_id == key.merchant_id,
            BT.livemode == key.livemode,
            BT.currency == key.currency,
            BT.holder == key.holder,
            BT.status == S.AVAILABLE,
            col(BT.payout_id).is_(None),
        )
        .values(payout_id=payout_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
